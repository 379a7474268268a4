// A fake embedding server on 127.0.0.1 speaking the OpenAI-compatible
// embeddings API (POST /v1/embeddings). Its vectors are deterministic and
// mean something: words of one concept group (invoice, bill, receipt, ...)
// share a dimension, other words hash to their own, so that a paraphrase
// lands near the text it paraphrases and keyword-free retrieval can be
// tested. Tests can make it fail, answer nonsense or count its calls.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "fake_http_server.h"

namespace weft::testing {

class FakeEmbeddings {
 public:
  static constexpr int kDimensions = 64;

  FakeEmbeddings();
  std::string base_url() const { return server_.url() + "/v1"; }
  int calls() const { return calls_.load(); }
  int texts() const { return texts_.load(); }  // embedded so far
  // 0 = answer; else answer this HTTP status (500, 400, ...).
  void set_status(int status) { status_.store(status); }
  void set_malformed(bool malformed) { malformed_.store(malformed); }

  // The vector the server gives `text` (for expectations).
  static std::vector<float> Vector(const std::string& text);

 private:
  FakeResponse Answer(const FakeRequest& req);

  std::atomic<int> calls_{0};
  std::atomic<int> texts_{0};
  std::atomic<int> status_{0};
  std::atomic<bool> malformed_{false};
  FakeHttpServer server_;  // last: stops before the rest goes away
};

}  // namespace weft::testing
