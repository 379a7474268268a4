// Knowledge on PostgreSQL: the same tables as on SQLite in weft's database
// (its schema), words in a tsvector per chunk with a GIN index. Each chunk
// is indexed twice: stemmed in its document's language (english, french,
// ...) and unstemmed ('simple'), so a query matches either form; it is
// ranked by ts_rank, scaled into [0, 1) (normalisation 32). Chunks are of
// bounded size, so no length normalisation: dividing by the length put a
// document's short introduction above the passage that answers (measured
// on the example help centre).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>

#include "backend.h"
#include "weft/core/encoding.h"
#include "weft/core/mutex.h"
#include "weft/store/pg_conn.h"

namespace weft::knowledge::internal {
namespace {

using store::pg::Conn;
using store::pg::Params;
using store::pg::Rows;

constexpr int kSchemaVersion = 1;
// ts_rank costs ~28 µs a chunk (a chunk's tsvector is read whole): at most
// this many are ranked per query (measured: 4,000 took 111 ms).
constexpr int64_t kMaxRanked = 1000;

// How long the words' frequencies read from PostgreSQL's statistics serve.
constexpr int64_t kStatsMillis = 60'000;

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS kb_meta(key TEXT COLLATE "C" PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS kb_bases(name TEXT COLLATE "C" PRIMARY KEY, settings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kb_documents(
  base TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, title TEXT NOT NULL, source TEXT NOT NULL,
  language TEXT NOT NULL, tags TEXT NOT NULL, sha256 TEXT NOT NULL, chunks INTEGER NOT NULL, size BIGINT NOT NULL,
  mtime_ns BIGINT NOT NULL, updated_ms BIGINT NOT NULL, PRIMARY KEY(base, id));
CREATE TABLE IF NOT EXISTS kb_chunks(
  id BIGSERIAL PRIMARY KEY, base TEXT COLLATE "C" NOT NULL, document TEXT COLLATE "C" NOT NULL,
  ordinal INTEGER NOT NULL, title TEXT NOT NULL, heading TEXT NOT NULL, text TEXT NOT NULL, vector BYTEA,
  tsv TSVECTOR NOT NULL);
CREATE INDEX IF NOT EXISTS kb_chunks_document ON kb_chunks(base, document);
CREATE INDEX IF NOT EXISTS kb_chunks_tsv ON kb_chunks USING GIN(tsv);
)";

// Bytes from their hex digits (what encode(..., 'hex') gives).
Result<std::string> HexDecode(std::string_view hex) {
  auto digit = [](char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  if (hex.size() % 2 != 0) return InvalidArgumentError("odd hex length");
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = digit(hex[2 * i]);
    const int lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgumentError("not hex");
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// The text search configuration of a language (PostgreSQL's built-in ones).
std::string Config(std::string_view language) {
  static const std::pair<std::string_view, std::string_view> kConfigs[] = {
      {"en", "english"}, {"fr", "french"},     {"es", "spanish"}, {"de", "german"},
      {"it", "italian"}, {"pt", "portuguese"}, {"nl", "dutch"}};
  for (const auto& [code, config] : kConfigs)
    if (code == language) return std::string(config);
  return "simple";
}

// Columns of a hit, in this order, from kb_chunks c joined with kb_documents d.
#define WEFT_KB_HIT_COLUMNS "c.id, c.document, c.ordinal, c.title, c.heading, c.text, d.source, d.language, d.tags"

Hit ReadHit(const Rows& r, int row) {
  Hit h;
  h.chunk_id = r.int64(row, 0);
  h.document = r.text(row, 1);
  h.ordinal = static_cast<int>(r.int64(row, 2));
  h.title = r.text(row, 3);
  h.heading = r.text(row, 4);
  h.text = r.text(row, 5);
  h.source = r.text(row, 6);
  h.language = r.text(row, 7);
  h.tags = SplitTags(r.text(row, 8));
  return h;
}

StoredDocument ReadDocumentRow(const Rows& r, int row) {
  StoredDocument d;
  d.info.id = r.text(row, 0);
  d.info.title = r.text(row, 1);
  d.info.source = r.text(row, 2);
  d.info.language = r.text(row, 3);
  d.info.tags = SplitTags(r.text(row, 4));
  d.info.sha256 = r.text(row, 5);
  d.info.chunks = static_cast<int>(r.int64(row, 6));
  d.info.updated_ms = r.int64(row, 7);
  d.size = r.int64(row, 8);
  d.mtime_ns = r.int64(row, 9);
  return d;
}

class PostgresBackend final : public Backend {
 public:
  PostgresBackend(std::string url, std::string schema, const Clock* clock)
      : url_(std::move(url)), schema_(std::move(schema)), clock_(clock) {}

  Status Open() {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(write_.Connect(url_, schema_, 10));
    WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN"));
    Status s = write_.Run("SELECT pg_advisory_xact_lock(hashtext('weft.knowledge'))").status();
    if (s.ok()) s = write_.Exec(kSchema);
    if (s.ok()) {
      Result<Rows> v = write_.Run("SELECT value FROM kb_meta WHERE key = 'schema'");
      if (!v.ok()) {
        s = v.status();
      } else if (v->size() > 0 && v->int64(0, 0) > kSchemaVersion) {
        s = FailedPreconditionError("the knowledge tables have schema version " + v->text(0, 0) +
                                    ", newer than this weft knows (" + std::to_string(kSchemaVersion) + ")");
      } else if (v->size() == 0) {
        s = write_.Run("INSERT INTO kb_meta(key, value) VALUES ('schema', 1)").status();
      }
    }
    if (!s.ok()) {
      (void)write_.Exec("ROLLBACK");
      return s.WithContext("knowledge on PostgreSQL");
    }
    return write_.Exec("COMMIT");
  }

  Result<std::optional<StoredDocument>> GetDocument(const std::string& base, const std::string& id) override {
    WEFT_ASSIGN_OR_RETURN(Lease c, Read());
    WEFT_ASSIGN_OR_RETURN(Rows r, c->Run("SELECT id, title, source, language, tags, sha256, chunks, updated_ms, size, "
                                         "mtime_ns FROM kb_documents WHERE base = $1 AND id = $2",
                                         Params().Text(base).Text(id)));
    std::optional<StoredDocument> out;
    if (r.size() > 0) out = ReadDocumentRow(r, 0);
    return out;
  }

  Result<std::vector<StoredDocument>> Documents(const std::string& base) override {
    WEFT_ASSIGN_OR_RETURN(Lease c, Read());
    WEFT_ASSIGN_OR_RETURN(Rows r, c->Run("SELECT id, title, source, language, tags, sha256, chunks, updated_ms, size, "
                                         "mtime_ns FROM kb_documents WHERE base = $1 ORDER BY id",
                                         Params().Text(base)));
    std::vector<StoredDocument> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) out.push_back(ReadDocumentRow(r, i));
    return out;
  }

  Status Replace(const std::string& base, const StoredDocument& document, const std::vector<NewChunk>& chunks,
                 std::vector<int64_t>& removed, std::vector<int64_t>& added) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(write_.Ensure());
    WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN"));
    return End(WriteDocument(base, document, chunks, removed, added));
  }

  Status Touch(const std::string& base, const std::string& id, int64_t size, int64_t mtime_ns) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(write_.Ensure());
    return write_
        .Run("UPDATE kb_documents SET size = $3, mtime_ns = $4 WHERE base = $1 AND id = $2",
             Params().Text(base).Text(id).Int(size).Int(mtime_ns))
        .status();
  }

  Status Remove(const std::string& base, const std::string& id, std::vector<int64_t>& removed) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(write_.Ensure());
    WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN"));
    return End(DeleteDocument(base, id, removed));
  }

  Result<std::vector<Hit>> Keyword(const std::string& base, const std::vector<std::string>& terms, int limit,
                                   int64_t candidates) override {
    // Each word a quoted lexeme (the words hold no quote or backslash), any of them.
    std::string query;
    std::string all;
    for (const std::string& t : terms) {
      query.append(query.empty() ? "" : " | ").append("'").append(t).append("'");
      all.append(t).append(" ");
    }
    WEFT_ASSIGN_OR_RETURN(Lease c, Read());
    WEFT_ASSIGN_OR_RETURN(
        Rows r, c->Run("SELECT " WEFT_KB_HIT_COLUMNS ", m.score FROM (SELECT c.id, ts_rank(c.tsv, q.q, 32) AS score "
                       "FROM kb_chunks c, (SELECT to_tsquery('simple', $2) || to_tsquery($3::regconfig, $2) AS q) q "
                       "WHERE c.base = $1 AND c.tsv @@ q.q LIMIT $5) m JOIN kb_chunks c ON c.id = m.id "
                       "JOIN kb_documents d ON d.base = c.base AND d.id = c.document "
                       "ORDER BY m.score DESC, c.id LIMIT $4",
                       Params()
                           .Text(base)
                           .Text(query)
                           .Text(Config(GuessLanguage(all)))
                           .Int(limit)
                           .Int(std::min<int64_t>(candidates, kMaxRanked))));
    std::vector<Hit> out;
    for (int i = 0; i < r.size(); ++i) {
      Hit h = ReadHit(r, i);
      h.score = r.real(i, 9);
      out.push_back(std::move(h));
    }
    return out;
  }

  // From the column's statistics when PostgreSQL has them (its most common
  // words and how often they occur: a counting query for a common word
  // reads thousands of rows, 13 ms at 20,000 chunks); a word they do not
  // list is rare. Counted otherwise.
  Result<int64_t> CountMatches(const std::string& base, const std::string& term, int64_t cap) override {
    WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const WordStats> stats, Stats());
    if (stats->rows > 0) {
      // A word the statistics do not list may still be in a few chunks (or
      // in chunks added since): rare, never absent.
      auto it = stats->frequency.find(term);
      const double f = it == stats->frequency.end() ? 0.0 : it->second;
      return std::clamp<int64_t>(std::llround(f * stats->rows), 1, cap);
    }
    WEFT_ASSIGN_OR_RETURN(Lease c, Read());
    const std::string lexeme = "'" + term + "'";
    WEFT_ASSIGN_OR_RETURN(Rows r, c->Run("SELECT count(*) FROM (SELECT 1 FROM kb_chunks WHERE base = $1 AND tsv @@ "
                                         "(to_tsquery('simple', $2) || to_tsquery($3::regconfig, $2)) LIMIT $4) m",
                                         Params().Text(base).Text(lexeme).Text(Config(GuessLanguage(term))).Int(cap)));
    return r.size() > 0 ? r.int64(0, 0) : 0;
  }

  Result<std::vector<Hit>> Chunks(const std::vector<int64_t>& ids) override {
    WEFT_ASSIGN_OR_RETURN(Lease c, Read());
    WEFT_ASSIGN_OR_RETURN(Rows r, c->Run("SELECT " WEFT_KB_HIT_COLUMNS " FROM kb_chunks c JOIN kb_documents d "
                                         "ON d.base = c.base AND d.id = c.document WHERE c.id = ANY($1::bigint[])",
                                         Params().IntArray(ids)));
    std::vector<Hit> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) out.push_back(ReadHit(r, i));
    return out;
  }

  Status ForEachVector(const std::string& base,
                       const std::function<void(int64_t, const std::vector<float>&)>& fn) override {
    WEFT_ASSIGN_OR_RETURN(Lease c, Read());
    WEFT_ASSIGN_OR_RETURN(Rows r, c->Run("SELECT id, encode(vector, 'hex') FROM kb_chunks WHERE base = $1 AND "
                                         "vector IS NOT NULL ORDER BY id",
                                         Params().Text(base)));
    for (int i = 0; i < r.size(); ++i) {
      Result<std::string> bytes = HexDecode(r.text(i, 1));
      if (!bytes.ok()) return InternalError("knowledge: a stored vector is not hex");
      fn(r.int64(i, 0), UnpackVector(*bytes));
    }
    return Status::Ok();
  }

  Result<std::map<std::string, std::string>> StoredBases() override {
    WEFT_ASSIGN_OR_RETURN(Lease c, Read());
    WEFT_ASSIGN_OR_RETURN(Rows r, c->Run("SELECT name, settings FROM kb_bases"));
    std::map<std::string, std::string> out;
    for (int i = 0; i < r.size(); ++i) out[r.text(i, 0)] = r.text(i, 1);
    return out;
  }

  Status StoreBase(const std::string& name, const std::string& settings) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(write_.Ensure());
    WEFT_ASSIGN_OR_RETURN(Rows r, write_.Run("INSERT INTO kb_bases(name, settings) VALUES ($1, $2) "
                                             "ON CONFLICT (name) DO NOTHING",
                                             Params().Text(name).Text(settings)));
    if (r.affected() == 0) return Status(StatusCode::kAlreadyExists, "knowledge base '" + name + "' exists");
    return Status::Ok();
  }

  Status DropBase(const std::string& name) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(write_.Ensure());
    WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN"));
    Status s;
    for (const char* sql : {"DELETE FROM kb_chunks WHERE base = $1", "DELETE FROM kb_documents WHERE base = $1",
                            "DELETE FROM kb_bases WHERE name = $1"}) {
      if (s.ok()) s = write_.Run(sql, Params().Text(name)).status();
    }
    if (s.ok()) s = write_.Run("DELETE FROM kb_meta WHERE key = $1", Params().Text("vectors:" + name)).status();
    return End(s);
  }

  Result<int64_t> VectorGeneration(const std::string& base) override { return Meta("vectors:" + base); }

  Result<int64_t> Meta(const std::string& key) override {
    WEFT_ASSIGN_OR_RETURN(Lease c, Read());
    WEFT_ASSIGN_OR_RETURN(Rows r, c->Run("SELECT value FROM kb_meta WHERE key = $1", Params().Text(key)));
    return r.size() > 0 ? r.int64(0, 0) : 0;
  }

  Status SetMeta(const std::string& key, int64_t value) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(write_.Ensure());
    return write_
        .Run("INSERT INTO kb_meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2",
             Params().Text(key).Int(value))
        .status();
  }

 private:
  // A read connection from the pool, returned when the lease goes.
  class Lease {
   public:
    Lease(PostgresBackend* owner, std::unique_ptr<Conn> c) : owner_(owner), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (c_ && c_->healthy()) owner_->Return(std::move(c_));
    }
    Conn* operator->() const { return c_.get(); }

   private:
    PostgresBackend* owner_;
    std::unique_ptr<Conn> c_;
  };

  struct WordStats {
    double rows = 0;                                       // 0: no statistics yet
    std::map<std::string, double, std::less<>> frequency;  // share of chunks holding the word
    int64_t read_ms = 0;
  };

  Result<std::shared_ptr<const WordStats>> Stats() {
    const int64_t now = clock_->NowMillis();
    {
      MutexLock lock(stats_mu_);
      if (stats_ && now - stats_->read_ms < kStatsMillis) return stats_;
    }
    auto stats = std::make_shared<WordStats>();
    stats->read_ms = now;
    WEFT_ASSIGN_OR_RETURN(Lease c, Read());
    static constexpr const char* kQuery =
        "SELECT s.most_common_elems::text, s.most_common_elem_freqs::text, c.reltuples "
        "FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename "
        "AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = s.schemaname) "
        "WHERE s.schemaname = current_schema() AND s.tablename = 'kb_chunks' AND s.attname = 'tsv' "
        "AND s.most_common_elems IS NOT NULL";
    WEFT_ASSIGN_OR_RETURN(Rows r, c->Run(kQuery));
    if (r.size() == 0) {
      // No statistics yet (a table filled since the last ANALYZE, which
      // autovacuum runs only after a while): gathered now.
      if (c->Exec("ANALYZE kb_chunks").ok()) {
        WEFT_ASSIGN_OR_RETURN(r, c->Run(kQuery));
      }
    }
    if (r.size() > 0 && r.real(0, 2) > 0) {
      const std::vector<std::string> words = ArrayItems(r.text(0, 0));
      const std::vector<std::string> freqs = ArrayItems(r.text(0, 1));
      for (size_t i = 0; i < words.size() && i < freqs.size(); ++i) {
        stats->frequency[words[i]] = std::strtod(freqs[i].c_str(), nullptr);
      }
      stats->rows = r.real(0, 2);
    }
    MutexLock lock(stats_mu_);
    stats_ = stats;
    return std::shared_ptr<const WordStats>(stats);
  }

  // The items of an array's text form ({a,"b c",d}).
  static std::vector<std::string> ArrayItems(std::string_view text) {
    std::vector<std::string> out;
    if (text.size() < 2 || text.front() != '{') return out;
    text = text.substr(1, text.size() - 2);
    std::string item;
    bool quoted = false;
    for (size_t i = 0; i < text.size(); ++i) {
      const char ch = text[i];
      if (quoted) {
        if (ch == '\\' && i + 1 < text.size()) {
          item += text[++i];
        } else if (ch == '"') {
          quoted = false;
        } else {
          item += ch;
        }
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == ',') {
        out.push_back(std::move(item));
        item.clear();
      } else {
        item += ch;
      }
    }
    out.push_back(std::move(item));
    return out;
  }

  Result<Lease> Read() {
    std::unique_ptr<Conn> c;
    {
      MutexLock lock(pool_mu_);
      if (!pool_.empty()) {
        c = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    if (!c) {
      c = std::make_unique<Conn>();
      WEFT_RETURN_IF_ERROR(c->Connect(url_, schema_, 10));
    }
    WEFT_RETURN_IF_ERROR(c->Ensure());
    return Lease(this, std::move(c));
  }
  void Return(std::unique_ptr<Conn> c) {
    MutexLock lock(pool_mu_);
    if (pool_.size() < 8) pool_.push_back(std::move(c));
  }

  Status WriteDocument(const std::string& base, const StoredDocument& document, const std::vector<NewChunk>& chunks,
                       std::vector<int64_t>& removed, std::vector<int64_t>& added) WEFT_REQUIRES(write_mu_) {
    // Processes indexing the same folder take turns on a document (two
    // replacements at once would both insert their chunks).
    WEFT_RETURN_IF_ERROR(write_
                             .Run("SELECT pg_advisory_xact_lock(hashtext('weft.knowledge:' || $1 || '/' || $2))",
                                  Params().Text(base).Text(document.info.id))
                             .status());
    bool vectors = false;
    WEFT_RETURN_IF_ERROR(DeleteChunks(base, document.info.id, removed, vectors));
    const DocumentInfo& d = document.info;
    WEFT_RETURN_IF_ERROR(
        write_
            .Run("INSERT INTO kb_documents(base, id, title, source, language, tags, sha256, chunks, size, mtime_ns, "
                 "updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (base, id) DO UPDATE "
                 "SET title = $3, source = $4, language = $5, tags = $6, sha256 = $7, chunks = $8, size = $9, "
                 "mtime_ns = $10, updated_ms = $11",
                 Params()
                     .Text(base)
                     .Text(d.id)
                     .Text(d.title)
                     .Text(d.source)
                     .Text(d.language)
                     .Text(JoinTags(d.tags))
                     .Text(d.sha256)
                     .Int(static_cast<int64_t>(chunks.size()))
                     .Int(document.size)
                     .Int(document.mtime_ns)
                     .Int(clock_->NowMillis()))
            .status());
    if (!chunks.empty()) {
      std::vector<int64_t> ordinals;
      std::vector<std::string> headings;
      std::vector<std::string> sections;
      std::vector<std::string> texts;
      std::vector<std::optional<std::string>> hex;
      for (const NewChunk& c : chunks) {
        ordinals.push_back(c.chunk.ordinal);
        headings.push_back(c.chunk.heading);
        sections.push_back(SectionOf(d.title, c.chunk.heading));
        texts.push_back(c.chunk.text);
        if (c.vector.empty()) {
          hex.emplace_back(std::nullopt);
        } else {
          hex.emplace_back(HexEncode(PackVector(c.vector)));
          vectors = true;
        }
      }
      WEFT_ASSIGN_OR_RETURN(
          Rows ids,
          write_.Run("INSERT INTO kb_chunks(base, document, ordinal, title, heading, text, vector, tsv) "
                     "SELECT $1, $2, u.o, $3, u.h, u.t, decode(u.v, 'hex'), "
                     "to_tsvector($4::regconfig, $3 || ' ' || u.s || ' ' || u.t) || "
                     "to_tsvector('simple', $3 || ' ' || u.s || ' ' || u.t) "
                     "FROM unnest($5::int[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u(o, h, s, t, v) "
                     "RETURNING id, ordinal",
                     Params()
                         .Text(base)
                         .Text(d.id)
                         .Text(d.title)
                         .Text(Config(d.language))
                         .IntArray(ordinals)
                         .TextArray(headings)
                         .TextArray(sections)
                         .TextArray(texts)
                         .NullableTextArray(hex)));
      added.assign(chunks.size(), 0);
      for (int i = 0; i < ids.size(); ++i) {
        const int64_t ordinal = ids.int64(i, 1);
        for (size_t k = 0; k < chunks.size(); ++k)
          if (chunks[k].chunk.ordinal == ordinal) added[k] = ids.int64(i, 0);
      }
    }
    return vectors ? BumpGeneration(base) : Status::Ok();
  }

  Status DeleteDocument(const std::string& base, const std::string& id, std::vector<int64_t>& removed)
      WEFT_REQUIRES(write_mu_) {
    WEFT_ASSIGN_OR_RETURN(
        Rows r, write_.Run("DELETE FROM kb_documents WHERE base = $1 AND id = $2", Params().Text(base).Text(id)));
    if (r.affected() == 0) return NotFoundError("knowledge base '" + base + "' has no document '" + id + "'");
    bool vectors = false;
    WEFT_RETURN_IF_ERROR(DeleteChunks(base, id, removed, vectors));
    return vectors ? BumpGeneration(base) : Status::Ok();
  }

  Status DeleteChunks(const std::string& base, const std::string& id, std::vector<int64_t>& removed, bool& vectors)
      WEFT_REQUIRES(write_mu_) {
    WEFT_ASSIGN_OR_RETURN(Rows r, write_.Run("DELETE FROM kb_chunks WHERE base = $1 AND document = $2 "
                                             "RETURNING id, vector IS NOT NULL",
                                             Params().Text(base).Text(id)));
    for (int i = 0; i < r.size(); ++i) {
      removed.push_back(r.int64(i, 0));
      vectors = vectors || r.text(i, 1) == "t";
    }
    return Status::Ok();
  }

  Status BumpGeneration(const std::string& base) WEFT_REQUIRES(write_mu_) {
    return write_
        .Run("INSERT INTO kb_meta(key, value) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET value = kb_meta.value + 1",
             Params().Text("vectors:" + base))
        .status();
  }

  Status End(Status s) WEFT_REQUIRES(write_mu_) {
    if (!s.ok()) {
      (void)write_.Exec("ROLLBACK");
      return s;
    }
    return write_.Exec("COMMIT");
  }

  std::string url_;
  std::string schema_;
  const Clock* clock_;
  Mutex write_mu_;
  Conn write_ WEFT_GUARDED_BY(write_mu_);
  Mutex pool_mu_;
  std::vector<std::unique_ptr<Conn>> pool_ WEFT_GUARDED_BY(pool_mu_);
  Mutex stats_mu_;
  std::shared_ptr<const WordStats> stats_ WEFT_GUARDED_BY(stats_mu_);
};

}  // namespace

Result<std::unique_ptr<Backend>> OpenPostgresBackend(const std::string& url, const std::string& schema,
                                                     const Clock* clock) {
  auto backend = std::make_unique<PostgresBackend>(url, schema, clock);
  WEFT_RETURN_IF_ERROR(backend->Open());
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace weft::knowledge::internal
