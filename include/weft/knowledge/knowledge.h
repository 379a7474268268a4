// Knowledge bases: documents an AI step can be grounded in (a help centre,
// policies, product manuals), indexed for retrieval.
//
// Each base is declared in weft.yaml (`knowledge:`) with a folder it is
// kept in step with, and takes documents through the API too. A document is
// cut into chunks (document.h) and indexed for keyword search (BM25 through
// SQLite FTS5 on the embedded store, PostgreSQL's full-text search on
// PostgreSQL); when the base names an embedding model, each chunk also gets
// a vector, kept in the database and in an in-process HNSW index (hnswlib,
// persisted beside the database), and a query ranks by both, fused by
// reciprocal rank.
//
// Thread safety: every method may be called from any thread; searches run
// concurrently, writes to one database are serialised. Methods block (on
// the database, the embedding model): call them from worker threads, never
// from the engine's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/clock.h"
#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/knowledge/document.h"

namespace weft::knowledge {

// Turns texts into vectors (an OpenAI-compatible /v1/embeddings model).
// Blocking; called from the index's callers' threads.
class Embedder {
 public:
  virtual ~Embedder() = default;
  // One vector per text, all of the same dimension.
  virtual Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) = 0;
  // Names the model, so that vectors of another model are never mixed in.
  virtual std::string model() const = 0;
};

// A knowledge base as weft.yaml declares it:
//   knowledge:
//     help_center:
//       folder: knowledge/help        # relative to weft.yaml
//       include: ["*.md", "*.html"]   # default: Markdown, text, HTML and PDF files
//       language: en                  # metadata given to documents that say none
//       tags: [help]
//       chunk: { max_chars: 1200, overlap_chars: 150 }
//       embedding: embed              # a model alias (provider openai); none = keyword search only
struct BaseConfig {
  std::string name;
  std::string folder;                // "" = documents come through the API only
  std::vector<std::string> include;  // glob patterns on file names
  std::string language;
  std::vector<std::string> tags;
  ChunkOptions chunk;
  DocumentLimits limits;
  std::string embedding;  // model alias, "" = none
};

// Reads the `knowledge:` section (undefined = no bases). Errors name the
// base and the key. Folders are taken relative to `config_dir`.
Result<std::vector<BaseConfig>> ReadBaseConfigs(const Value& section, const std::string& config_dir);
// One base's settings ({language, tags, chunk, embedding, max_file_mb},
// `folder` only when `allow_folder`), as the API and the database hold them.
Result<BaseConfig> ReadBaseConfig(const std::string& name, const Value& settings, const std::string& config_dir,
                                  bool allow_folder);
Value BaseConfigToValue(const BaseConfig& config);

struct KnowledgeOptions {
  // An SQLite file, ":memory:", or a postgresql:// URL (with `schema`).
  std::string database;
  std::string schema;
  // Where vector indexes are saved ("" = rebuilt from the database at open).
  std::string vector_dir;
  std::vector<BaseConfig> bases;
  // The embedder of a model alias (only asked for bases that name one).
  std::function<Result<std::shared_ptr<Embedder>>(std::string_view alias)> embedders;
  const Clock* clock = nullptr;  // nullptr = the system clock
};

struct DocumentInfo {
  std::string id;
  std::string title;
  std::string source;
  std::string language;
  std::vector<std::string> tags;
  std::string sha256;  // of the document as indexed (text and metadata)
  int chunks = 0;
  int64_t updated_ms = 0;
};

struct SyncReport {
  int added = 0;
  int updated = 0;
  int unchanged = 0;
  int removed = 0;
  int64_t chunks = 0;                 // chunks written
  std::vector<std::string> problems;  // "<file>: <why>" for files left out
};

enum class SearchMode : uint8_t {
  kAuto,     // hybrid when the base has vectors, else keyword
  kKeyword,  // BM25 only
  kVector,   // nearest vectors only (the base needs an embedding model)
  kHybrid,   // both, fused by reciprocal rank
};

struct Filter {
  std::vector<std::string> tags;       // a chunk's document has at least one of them
  std::string language;                // "" = any
  std::vector<std::string> documents;  // ids; empty = any
  std::string source_prefix;           // "" = any
};

struct Query {
  std::string base;
  std::string text;
  int k = 5;  // 1..100
  Filter filter;
  SearchMode mode = SearchMode::kAuto;
};

struct Hit {
  int64_t chunk_id = 0;
  std::string document;
  std::string title;
  std::string source;
  std::string heading;
  std::string text;
  std::string language;
  std::vector<std::string> tags;
  int ordinal = 0;
  double score = 0;       // higher is better; its scale depends on the mode
  int keyword_rank = 0;   // 1-based rank in the keyword list, 0 = not in it
  int vector_rank = 0;    // likewise for the vector list
  double similarity = 0;  // cosine similarity to the query (vector modes)
};

class Knowledge {
 public:
  // Opens (creating or migrating) the database and loads or rebuilds the
  // vector indexes. Does not read the folders: call Sync.
  static Result<std::unique_ptr<Knowledge>> Open(KnowledgeOptions options);
  virtual ~Knowledge() = default;

  virtual std::vector<std::string> bases() const = 0;
  // A copy: a base declared through the API may go while it is used. A
  // name this process does not know is looked for among the bases other
  // processes declared through the API.
  virtual std::optional<BaseConfig> base(std::string_view name) = 0;

  // Declares a base without weft.yaml (the API): kept in the database, so
  // it outlives the process, and other processes on the database find it at
  // first use. Its documents come through Put (no folder: InvalidArgument).
  // AlreadyExists when a base of that name exists.
  virtual Status CreateBase(BaseConfig config) = 0;
  // Removes a base declared through the API, with its documents.
  // FailedPrecondition for one weft.yaml declares, NotFound for none.
  virtual Status DeleteBase(std::string_view name) = 0;
  // Whether weft.yaml declares it (else the API did).
  virtual bool Configured(std::string_view name) const = 0;

  // Brings the base in step with its folder: new and changed files are
  // (re)indexed, files gone are removed, unchanged ones (same size and
  // time, or same content) are left alone. A file that cannot be read is
  // reported and left out; the others are still indexed.
  virtual Result<SyncReport> Sync(std::string_view base) = 0;
  // Adds or replaces one document (nothing is written when its content and
  // metadata are unchanged).
  virtual Result<DocumentInfo> Put(std::string_view base, Document document) = 0;
  // NotFound when there is no such document.
  virtual Status Remove(std::string_view base, std::string_view id) = 0;
  virtual Result<std::vector<DocumentInfo>> Documents(std::string_view base) = 0;

  // The best `k` chunks for `query.text`; InvalidArgument for an unknown
  // base, an empty query, a vector mode on a base without embeddings.
  virtual Result<std::vector<Hit>> Search(const Query& query) = 0;
};

// A hit as a step's result shows it: {text, score, title, source, heading,
// document, chunk, language, tags}.
Value HitToValue(const Hit& hit);
// A document as the API and index_document show it: {id, title, source,
// language, tags, chunks, sha256, updated_ms}.
Value DocumentInfoToValue(const DocumentInfo& document);

}  // namespace weft::knowledge
