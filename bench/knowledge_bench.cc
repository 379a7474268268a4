// Knowledge retrieval figures: indexing throughput (chunks/s) and query
// latency (p50/p99) over a synthetic corpus, keyword (BM25 on SQLite FTS5)
// and hybrid (BM25 + HNSW vectors, rank fusion).
//
//   knowledge_bench [--chunks 100000] [--queries 1000] [--dir /tmp] [--postgres URL]
//
// Documents are made of words drawn from a 20,000-word vocabulary with a
// Zipf distribution (as in natural text), ten sections per document, one
// chunk per section. The embedder is in-process (hashed words into 256
// dimensions) so that the figures are the index's, not a model server's.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "weft/knowledge/knowledge.h"
#include "weft/store/pg_conn.h"

namespace {

using weft::knowledge::Document;
using weft::knowledge::Knowledge;
using Clock = std::chrono::steady_clock;

class HashEmbedder final : public weft::knowledge::Embedder {
 public:
  std::string model() const override { return "bench:hash256"; }
  weft::Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    for (const std::string& t : texts) {
      std::vector<float> v(256, 0.0F);
      size_t start = 0;
      while (start < t.size()) {
        size_t end = t.find(' ', start);
        if (end == std::string::npos) end = t.size();
        if (end > start) v[std::hash<std::string_view>{}(std::string_view(t).substr(start, end - start)) % 256] += 1;
        start = end + 1;
      }
      out.push_back(std::move(v));
    }
    return out;
  }
};

struct Corpus {
  std::vector<std::string> words;
  std::discrete_distribution<size_t> zipf;
  std::mt19937 rng{42};
  Corpus() {
    std::vector<double> weights;
    for (int i = 0; i < 20000; ++i) {
      std::string w;
      int n = i;
      do {
        w += static_cast<char>('a' + n % 26);
        n /= 26;
      } while (n > 0);
      w += "x" + std::to_string(i % 97);  // distinct, word-like tokens
      words.push_back(w);
      weights.push_back(1.0 / (i + 1));
    }
    zipf = std::discrete_distribution<size_t>(weights.begin(), weights.end());
  }
  std::string Words(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out.append(i ? " " : "").append(words[zipf(rng)]);
    return out;
  }
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Figures {
  double chunks_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
};

Figures Run(const std::string& label, bool vectors, int chunks, int queries, const std::string& db,
            const std::string& schema) {
  weft::knowledge::KnowledgeOptions o;
  o.database = db;
  o.schema = schema;
  weft::knowledge::BaseConfig base;
  base.name = "bench";
  if (vectors) base.embedding = "hash";
  o.bases = {base};
  auto embedder = std::make_shared<HashEmbedder>();
  o.embedders = [embedder](std::string_view) -> weft::Result<std::shared_ptr<weft::knowledge::Embedder>> {
    return std::shared_ptr<weft::knowledge::Embedder>(embedder);
  };
  std::unique_ptr<Knowledge> k = Knowledge::Open(std::move(o)).value();
  Corpus corpus;
  const int sections = 10;
  const auto start = Clock::now();
  for (int d = 0; d * sections < chunks; ++d) {
    Document doc;
    doc.id = "doc/" + std::to_string(d);
    doc.title = corpus.Words(4);
    for (int s = 0; s < sections; ++s) doc.text += "## " + corpus.Words(3) + "\n\n" + corpus.Words(110) + "\n\n";
    if (auto r = k->Put("bench", std::move(doc)); !r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      std::exit(1);
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Figures f;
  f.chunks_per_s = chunks / seconds;
  std::vector<double> us;
  for (int q = 0; q < queries; ++q) {
    weft::knowledge::Query query;
    query.base = "bench";
    query.text = corpus.Words(3 + q % 4);
    query.k = 5;
    const auto t = Clock::now();
    auto hits = k->Search(query);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    if (!hits.ok()) {
      std::fprintf(stderr, "%s\n", hits.status().ToString().c_str());
      std::exit(1);
    }
  }
  f.p50_us = Percentile(us, 0.5);
  f.p99_us = Percentile(us, 0.99);
  std::printf("%-26s %8d chunks  index %8.0f chunks/s  query p50 %8.0f us  p99 %8.0f us\n", label.c_str(), chunks,
              f.chunks_per_s, f.p50_us, f.p99_us);
  std::fflush(stdout);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int chunks = 100'000;
  int queries = 1'000;
  std::string dir = std::filesystem::temp_directory_path().string();
  std::string postgres;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--chunks") == 0) chunks = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--queries") == 0) queries = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    if (std::strcmp(argv[i], "--postgres") == 0) postgres = argv[i + 1];
  }
  const std::string path = dir + "/weft_knowledge_bench_" + std::to_string(::getpid());
  std::filesystem::create_directories(path);
  Run("sqlite keyword (BM25)", false, chunks, queries, path + "/keyword.db", "");
  Run("sqlite hybrid (BM25+HNSW)", true, chunks, queries, path + "/hybrid.db", "");
  if (!postgres.empty()) {
    const std::string keyword_schema = "kb_bench_k" + std::to_string(::getpid());
    const std::string hybrid_schema = "kb_bench_h" + std::to_string(::getpid());
    Run("postgres keyword", false, chunks, queries, postgres, keyword_schema);
    Run("postgres hybrid", true, chunks, queries, postgres, hybrid_schema);
    weft::store::pg::Conn c;
    if (c.Connect(postgres, "", 10).ok()) {
      for (const std::string& schema : {keyword_schema, hybrid_schema}) {
        (void)c.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
  }
  if (std::getenv("WEFT_BENCH_KEEP") == nullptr) std::filesystem::remove_all(path);
  return 0;
}
