// Where a knowledge base's documents, chunks and vectors are kept: the part
// of Knowledge that differs between SQLite (FTS5) and PostgreSQL (tsvector).
// Filtering by metadata and fusing rankings happen above it, the same for
// both.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "weft/knowledge/knowledge.h"

namespace weft::knowledge::internal {

// A document's row, with what tells whether its file changed.
struct StoredDocument {
  DocumentInfo info;
  int64_t size = -1;      // of the file it came from (-1: not from a file)
  int64_t mtime_ns = -1;  // likewise
};

struct NewChunk {
  Chunk chunk;
  std::vector<float> vector;  // empty when the base has no embedding model
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual Result<std::optional<StoredDocument>> GetDocument(const std::string& base, const std::string& id) = 0;
  virtual Result<std::vector<StoredDocument>> Documents(const std::string& base) = 0;
  // Replaces the document and its chunks in one transaction; `removed`
  // receives the ids of the chunks it had, `added` those of the new ones
  // (in `chunks` order).
  virtual Status Replace(const std::string& base, const StoredDocument& document, const std::vector<NewChunk>& chunks,
                         std::vector<int64_t>& removed, std::vector<int64_t>& added) = 0;
  // Only the file's size and time (the content is unchanged).
  virtual Status Touch(const std::string& base, const std::string& id, int64_t size, int64_t mtime_ns) = 0;
  // NotFound when there is no such document.
  virtual Status Remove(const std::string& base, const std::string& id, std::vector<int64_t>& removed) = 0;

  // The best `limit` chunks for the words `terms` (each a word or number,
  // none empty), best first, with their documents' metadata; the score
  // grows with relevance. At most `candidates` matching chunks are ranked
  // (the first found): exact when fewer match, bounded when more do.
  virtual Result<std::vector<Hit>> Keyword(const std::string& base, const std::vector<std::string>& terms, int limit,
                                           int64_t candidates) = 0;
  // How many chunks of the base hold the word `term`, counted up to `cap`
  // (a count of `cap` means "at least").
  virtual Result<int64_t> CountMatches(const std::string& base, const std::string& term, int64_t cap) = 0;
  // Chunks by id (with metadata), in no particular order; ids not found are
  // left out.
  virtual Result<std::vector<Hit>> Chunks(const std::vector<int64_t>& ids) = 0;
  // Every stored vector of the base.
  virtual Status ForEachVector(const std::string& base,
                               const std::function<void(int64_t id, const std::vector<float>&)>& fn) = 0;
  // Bases declared through the API: name -> their settings (JSON).
  virtual Result<std::map<std::string, std::string>> StoredBases() = 0;
  // AlreadyExists when the name is taken.
  virtual Status StoreBase(const std::string& name, const std::string& settings) = 0;
  // Removes the base's row, documents, chunks and vector generation.
  virtual Status DropBase(const std::string& name) = 0;
  // A number kept under `key` (0 when none).
  virtual Result<int64_t> Meta(const std::string& key) = 0;
  virtual Status SetMeta(const std::string& key, int64_t value) = 0;
  // Grows each time the base's vectors change (in the same transaction):
  // a saved vector index of another generation is stale.
  virtual Result<int64_t> VectorGeneration(const std::string& base) = 0;
};

Result<std::unique_ptr<Backend>> OpenSqliteBackend(const std::string& path, const Clock* clock);
Result<std::unique_ptr<Backend>> OpenPostgresBackend(const std::string& url, const std::string& schema,
                                                     const Clock* clock);

// Vectors are stored as little-endian float32 arrays.
std::string PackVector(const std::vector<float>& v);
std::vector<float> UnpackVector(std::string_view bytes);

// A document's tags in one column (joined by U+001F, which a tag loses).
std::string JoinTags(const std::vector<std::string>& tags);
std::vector<std::string> SplitTags(std::string_view joined);

// The headings a keyword index weighs as a chunk's section: its path
// without the document's title (a column of its own), so that every chunk
// of a document does not match its title twice, and the shortest heading
// path does not win for it.
std::string SectionOf(std::string_view title, std::string_view heading);

}  // namespace weft::knowledge::internal
