#include "weft/ai/embeddings.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cmath>

#include "provider_http.h"
#include "weft/core/json.h"

namespace weft::ai {
namespace {

namespace asio = boost::asio;

constexpr size_t kMaxDimensions = 65536;

class OpenAiEmbedder final : public knowledge::Embedder {
 public:
  OpenAiEmbedder(ModelConfig config, ProviderOptions options)
      : config_(std::move(config)), options_(std::move(options)) {}

  std::string model() const override { return config_.provider + ":" + config_.model; }

  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    if (texts.empty()) return std::vector<std::vector<float>>{};
    Value body = Value::MakeObject();
    body.set("model", config_.model);
    Value input = Value::MakeArray();
    for (const std::string& t : texts) input.push_back(t);
    body.set("input", input);
    std::vector<http::Header> headers;
    if (!options_.api_key.empty()) headers.push_back({"Authorization", "Bearer " + options_.api_key});
    ModelRequest request;  // carries the timeout
    request.model = config_.model;
    request.timeout_ms = config_.timeout_ms;
    // The HTTP client completes on the awaiting coroutine's executor: a
    // context of this call's own, run here until the answer is in.
    asio::io_context io;
    std::optional<Result<http::Response>> answer;
    int exchanges = 0;
    std::string url = options_.base_url + "/embeddings";
    std::string payload = ToJson(body);
    auto call = [&]() -> asio::awaitable<void> {
      answer = co_await internal::PostJson(options_, std::move(url), std::move(headers), std::move(payload), request,
                                           nullptr, exchanges);
    };
    asio::co_spawn(io, call(), [](const std::exception_ptr&) {});
    io.run();
    if (!answer) return InternalError("embedding request did not complete");
    if (!answer->ok()) return answer->status();
    return Parse((*answer)->body, texts.size());
  }

 private:
  Result<std::vector<std::vector<float>>> Parse(std::string_view text, size_t count) const {
    const std::string who = "embedding model '" + config_.alias + "'";
    Result<Value> doc = ParseJson(text);
    if (!doc.ok()) return UnavailableError(who + " answered with invalid JSON: " + doc.status().message());
    const Value data = doc->get("data");
    if (!data.is_array() || data.size() != count) {
      return UnavailableError(who + " answered " + (data.is_array() ? std::to_string(data.size()) : "no") +
                              " embeddings for " + std::to_string(count) + " texts");
    }
    std::vector<std::vector<float>> out(count);
    for (size_t i = 0; i < count; ++i) {
      const Value item = data.as_array()[i];
      const Value index = item.get("index");
      const size_t at = index.is_number() ? static_cast<size_t>(index.as_number()) : i;
      const Value embedding = item.get("embedding");
      if (at >= count || !out[at].empty() || !embedding.is_array() || embedding.size() == 0 ||
          embedding.size() > kMaxDimensions) {
        return UnavailableError(who + ": embedding " + std::to_string(i) + " is missing or malformed");
      }
      std::vector<float>& v = out[at];
      v.reserve(embedding.size());
      for (const Value& x : embedding.as_array()) {
        if (!x.is_number() || !std::isfinite(x.as_number())) {
          return UnavailableError(who + ": embedding " + std::to_string(i) + " holds a value that is not a number");
        }
        v.push_back(static_cast<float>(x.as_number()));
      }
      if (v.size() != out.front().size() && !out.front().empty()) {
        return UnavailableError(who + ": embeddings of different dimensions in one answer");
      }
    }
    return out;
  }

  ModelConfig config_;
  ProviderOptions options_;
};

}  // namespace

Result<std::shared_ptr<knowledge::Embedder>> NewEmbedder(const Models& models, std::string_view alias,
                                                         http::Client* http, const Clock* clock) {
  WEFT_ASSIGN_OR_RETURN(Models::Route route, models.Resolve(alias));
  const ModelConfig& c = *route.config;
  if (c.provider != "openai") {
    return InvalidArgumentError("model '" + std::string(alias) + "' (provider " + c.provider +
                                ") cannot make embeddings: use an OpenAI-compatible alias (provider: openai)");
  }
  if (http == nullptr) return InvalidArgumentError("model '" + std::string(alias) + "': no HTTP client");
  return std::shared_ptr<knowledge::Embedder>(std::make_shared<OpenAiEmbedder>(c, ProviderOptionsFor(c, http, clock)));
}

}  // namespace weft::ai
