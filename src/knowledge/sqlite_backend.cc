// Knowledge on SQLite: documents and chunks in tables, the chunks' words in
// an FTS5 index (external content, kept in step by triggers) ranked by BM25
// with the title and headings weighted above the text.
//
// The knowledge database is its own file (beside the runs' database), so
// that indexing a folder of documents never holds the write lock the run
// commits need.
#include <sqlite3.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "backend.h"
#include "weft/core/mutex.h"

namespace weft::knowledge::internal {
namespace {

constexpr int kSchemaVersion = 1;

class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() { Close(); }
  void Close() {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }
  Status Open(const std::string& path) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      return UnavailableError("knowledge database " + path + ": " + (db_ ? sqlite3_errmsg(db_) : "cannot open"));
    }
    sqlite3_busy_timeout(db_, 10'000);
    return Status::Ok();
  }
  sqlite3* get() const { return db_; }
  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "error";
      sqlite3_free(err);
      return InternalError(std::string("knowledge database: ") + msg);
    }
    return Status::Ok();
  }
  Status Error(std::string_view what) const {
    const int code = sqlite3_errcode(db_);
    std::string msg = "knowledge database: " + std::string(what) + ": " + sqlite3_errmsg(db_);
    return code == SQLITE_BUSY || code == SQLITE_LOCKED ? UnavailableError(msg) : InternalError(msg);
  }

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt(Db& db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db.get(), sql, -1, &stmt_, nullptr) != SQLITE_OK) status_ = db.Error("prepare");
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }
  const Status& status() const { return status_; }
  Stmt& Bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& BindBlob(int i, std::string_view s) {
    if (s.empty()) {
      sqlite3_bind_null(stmt_, i);
    } else {
      sqlite3_bind_blob(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
    return *this;
  }
  // true: a row; false: done (status() says whether it failed).
  bool Step() {
    if (!status_.ok()) return false;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) status_ = db_.Error("step");
    return false;
  }
  Status Run() {
    while (Step()) {
    }
    return status_;
  }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  std::string_view Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string_view();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
};

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS kb_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kb_bases(name TEXT PRIMARY KEY, settings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kb_documents(
  base TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, source TEXT NOT NULL, language TEXT NOT NULL,
  tags TEXT NOT NULL, sha256 TEXT NOT NULL, chunks INTEGER NOT NULL, size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL, updated_ms INTEGER NOT NULL, PRIMARY KEY(base, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kb_chunks(
  id INTEGER PRIMARY KEY, base TEXT NOT NULL, document TEXT NOT NULL, ordinal INTEGER NOT NULL,
  title TEXT NOT NULL, heading TEXT NOT NULL, section TEXT NOT NULL, text TEXT NOT NULL, vector BLOB);
CREATE INDEX IF NOT EXISTS kb_chunks_document ON kb_chunks(base, document);
CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5(title, section, text, content='kb_chunks', content_rowid='id',
  tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS kb_chunks_ai AFTER INSERT ON kb_chunks BEGIN
  INSERT INTO kb_fts(rowid, title, section, text) VALUES (new.id, new.title, new.section, new.text);
END;
CREATE TRIGGER IF NOT EXISTS kb_chunks_ad AFTER DELETE ON kb_chunks BEGIN
  INSERT INTO kb_fts(kb_fts, rowid, title, section, text) VALUES ('delete', old.id, old.title, old.section, old.text);
END;
)";

// A word as an FTS5 string (only ever a word: no query syntax gets through).
std::string Quoted(std::string_view term) {
  std::string out = "\"";
  for (char c : term) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + '"';
}

// Columns of a hit, in this order, from kb_chunks c joined with kb_documents d.
constexpr const char* kHitColumns =
    "c.id, c.document, c.ordinal, c.title, c.heading, c.text, d.source, d.language, d.tags";

Hit ReadHit(const Stmt& s) {
  Hit h;
  h.chunk_id = s.Int(0);
  h.document = s.Text(1);
  h.ordinal = static_cast<int>(s.Int(2));
  h.title = s.Text(3);
  h.heading = s.Text(4);
  h.text = s.Text(5);
  h.source = s.Text(6);
  h.language = s.Text(7);
  h.tags = SplitTags(s.Text(8));
  return h;
}

class SqliteBackend final : public Backend {
 public:
  explicit SqliteBackend(std::string path, const Clock* clock) : path_(std::move(path)), clock_(clock) {}
  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;
  ~SqliteBackend() override {
    if (temp_dir_.empty()) return;
    {
      MutexLock lock(pool_mu_);
      pool_.clear();
    }
    {
      MutexLock lock(write_mu_);
      write_.Close();
    }
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
  }

  Status Open() {
    if (path_ == ":memory:") {
      // Nothing kept: a file in a folder of its own, removed at close, so
      // that reads have their own connections as with a real file.
      char dir[] = "/tmp/weft-knowledge-XXXXXX";
      if (mkdtemp(dir) == nullptr) return UnavailableError("knowledge: cannot make a temporary folder");
      temp_dir_ = dir;
      path_ = temp_dir_ + "/knowledge.db";
    }
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(write_.Open(path_));
    WEFT_RETURN_IF_ERROR(write_.Exec("PRAGMA journal_mode=WAL"));
    WEFT_RETURN_IF_ERROR(write_.Exec("PRAGMA synchronous=NORMAL"));
    WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN IMMEDIATE"));
    Status s = write_.Exec(kSchema);
    int64_t version = 0;
    if (s.ok()) {
      Stmt q(write_, "SELECT value FROM kb_meta WHERE key = 'schema'");
      if (q.Step()) version = q.Int(0);
      s = q.status();
    }
    if (s.ok() && version > kSchemaVersion) {
      s = FailedPreconditionError("knowledge database " + path_ + " has schema version " + std::to_string(version) +
                                  ", newer than this weft knows (" + std::to_string(kSchemaVersion) + ")");
    }
    if (s.ok() && version == 0) {
      // Title, section and text weigh the same: every chunk repeats its
      // document's title, so a heavier title would drown the text that
      // tells a document's chunks apart (measured on the example help
      // centre: the steps of "Download your invoices" fell to 4th).
      s = write_.Exec(
          "INSERT INTO kb_fts(kb_fts, rank) VALUES ('rank', 'bm25(1.0, 1.0, 1.0)');"
          "INSERT INTO kb_meta(key, value) VALUES ('schema', 1)");
    }
    if (!s.ok()) {
      (void)write_.Exec("ROLLBACK");
      return s;
    }
    return write_.Exec("COMMIT");
  }

  Result<std::optional<StoredDocument>> GetDocument(const std::string& base, const std::string& id) override {
    Reader r = Read();
    WEFT_RETURN_IF_ERROR(r.status);
    Stmt s(*r.db,
           "SELECT id, title, source, language, tags, sha256, chunks, updated_ms, size, mtime_ns FROM kb_documents "
           "WHERE base = ?1 AND id = ?2");
    s.Bind(1, base).Bind(2, id);
    std::optional<StoredDocument> out;
    if (s.Step()) out = ReadDocumentRow(s);
    WEFT_RETURN_IF_ERROR(s.status());
    return out;
  }

  Result<std::vector<StoredDocument>> Documents(const std::string& base) override {
    Reader r = Read();
    WEFT_RETURN_IF_ERROR(r.status);
    Stmt s(*r.db,
           "SELECT id, title, source, language, tags, sha256, chunks, updated_ms, size, mtime_ns FROM kb_documents "
           "WHERE base = ?1 ORDER BY id");
    s.Bind(1, base);
    std::vector<StoredDocument> out;
    while (s.Step()) out.push_back(ReadDocumentRow(s));
    WEFT_RETURN_IF_ERROR(s.status());
    return out;
  }

  Status Replace(const std::string& base, const StoredDocument& document, const std::vector<NewChunk>& chunks,
                 std::vector<int64_t>& removed, std::vector<int64_t>& added) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(Begin());
    return End(WriteDocument(base, document, chunks, removed, added));
  }

  Status WriteDocument(const std::string& base, const StoredDocument& document, const std::vector<NewChunk>& chunks,
                       std::vector<int64_t>& removed, std::vector<int64_t>& added) WEFT_REQUIRES(write_mu_) {
    {
      WEFT_RETURN_IF_ERROR(DeleteChunks(base, document.info.id, removed));
      Stmt doc(write_,
               "INSERT OR REPLACE INTO kb_documents(base, id, title, source, language, tags, sha256, chunks, size, "
               "mtime_ns, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
      const DocumentInfo& d = document.info;
      doc.Bind(1, base).Bind(2, d.id).Bind(3, d.title).Bind(4, d.source).Bind(5, d.language).Bind(6, JoinTags(d.tags));
      doc.Bind(7, d.sha256).Bind(8, static_cast<int64_t>(chunks.size())).Bind(9, document.size);
      doc.Bind(10, document.mtime_ns).Bind(11, clock_->NowMillis());
      WEFT_RETURN_IF_ERROR(doc.Run());
      Stmt ins(write_,
               "INSERT INTO kb_chunks(base, document, ordinal, title, heading, section, text, vector) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
      bool vectors = !removed.empty() && HadVectors();
      for (const NewChunk& c : chunks) {
        ins.Reset();
        ins.Bind(1, base).Bind(2, d.id).Bind(3, c.chunk.ordinal).Bind(4, d.title).Bind(5, c.chunk.heading);
        ins.Bind(6, SectionOf(d.title, c.chunk.heading)).Bind(7, c.chunk.text);
        ins.BindBlob(8, c.vector.empty() ? std::string() : PackVector(c.vector));
        WEFT_RETURN_IF_ERROR(ins.Run());
        added.push_back(sqlite3_last_insert_rowid(write_.get()));
        vectors = vectors || !c.vector.empty();
      }
      return vectors ? BumpGeneration(base) : Status::Ok();
    }
  }

  Status Touch(const std::string& base, const std::string& id, int64_t size, int64_t mtime_ns) override {
    MutexLock lock(write_mu_);
    Stmt s(write_, "UPDATE kb_documents SET size = ?3, mtime_ns = ?4 WHERE base = ?1 AND id = ?2");
    s.Bind(1, base).Bind(2, id).Bind(3, size).Bind(4, mtime_ns);
    return s.Run();
  }

  Status Remove(const std::string& base, const std::string& id, std::vector<int64_t>& removed) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(Begin());
    return End(DeleteDocument(base, id, removed));
  }

  Status DeleteDocument(const std::string& base, const std::string& id, std::vector<int64_t>& removed)
      WEFT_REQUIRES(write_mu_) {
    {
      Stmt s(write_, "DELETE FROM kb_documents WHERE base = ?1 AND id = ?2");
      s.Bind(1, base).Bind(2, id);
      WEFT_RETURN_IF_ERROR(s.Run());
      if (sqlite3_changes(write_.get()) == 0) {
        return NotFoundError("knowledge base '" + base + "' has no document '" + id + "'");
      }
      WEFT_RETURN_IF_ERROR(DeleteChunks(base, id, removed));
      return HadVectors() ? BumpGeneration(base) : Status::Ok();
    }
  }

  Result<std::vector<Hit>> Keyword(const std::string& base, const std::vector<std::string>& terms, int limit,
                                   int64_t candidates) override {
    std::string match;
    for (const std::string& t : terms) match.append(match.empty() ? "" : " OR ").append(Quoted(t));
    Reader r = Read();
    WEFT_RETURN_IF_ERROR(r.status);
    // BM25 is computed for the first `candidates` matching rows only (the
    // inner LIMIT without ORDER BY stops the scan), then the best are
    // sorted; other bases' rows are dropped after, so ask for more when
    // there are several bases.
    const std::string sql =
        std::string("SELECT ") + kHitColumns +
        ", -m.r FROM (SELECT rowid, r FROM (SELECT rowid, rank AS r FROM kb_fts WHERE kb_fts "
        "MATCH ?1 LIMIT ?4) ORDER BY r LIMIT ?3) m JOIN kb_chunks c ON c.id = m.rowid "
        "JOIN kb_documents d ON d.base = c.base AND d.id = c.document WHERE c.base = ?2 ORDER BY m.r";
    Stmt s(*r.db, sql.c_str());
    s.Bind(1, match).Bind(2, base).Bind(3, static_cast<int64_t>(limit) * BaseCount(*r.db)).Bind(4, candidates);
    std::vector<Hit> out;
    while (s.Step() && static_cast<int>(out.size()) < limit) {
      Hit h = ReadHit(s);
      h.score = s.Real(9);
      out.push_back(std::move(h));
    }
    WEFT_RETURN_IF_ERROR(s.status());
    return out;
  }

  Result<int64_t> CountMatches(const std::string& base, const std::string& term, int64_t cap) override {
    Reader r = Read();
    WEFT_RETURN_IF_ERROR(r.status);
    // Over every base (FTS5 has no per-base index): an overestimate when
    // there are several, which only makes the term look commoner.
    Stmt s(*r.db, "SELECT count(*) FROM (SELECT 1 FROM kb_fts WHERE kb_fts MATCH ?1 LIMIT ?2)");
    s.Bind(1, Quoted(term)).Bind(2, cap);
    (void)base;
    const int64_t n = s.Step() ? s.Int(0) : 0;
    WEFT_RETURN_IF_ERROR(s.status());
    return n;
  }

  Result<std::vector<Hit>> Chunks(const std::vector<int64_t>& ids) override {
    Reader r = Read();
    WEFT_RETURN_IF_ERROR(r.status);
    const std::string sql = std::string("SELECT ") + kHitColumns +
                            " FROM kb_chunks c JOIN kb_documents d ON d.base = c.base AND d.id = c.document "
                            "WHERE c.id = ?1";
    Stmt s(*r.db, sql.c_str());
    std::vector<Hit> out;
    for (int64_t id : ids) {
      s.Reset();
      s.Bind(1, id);
      if (s.Step()) out.push_back(ReadHit(s));
      WEFT_RETURN_IF_ERROR(s.status());
    }
    return out;
  }

  Status ForEachVector(const std::string& base,
                       const std::function<void(int64_t, const std::vector<float>&)>& fn) override {
    Reader r = Read();
    WEFT_RETURN_IF_ERROR(r.status);
    Stmt s(*r.db, "SELECT id, vector FROM kb_chunks WHERE base = ?1 AND vector IS NOT NULL ORDER BY id");
    s.Bind(1, base);
    while (s.Step()) fn(s.Int(0), UnpackVector(s.Blob(1)));
    return s.status();
  }

  Result<std::map<std::string, std::string>> StoredBases() override {
    Reader r = Read();
    WEFT_RETURN_IF_ERROR(r.status);
    Stmt s(*r.db, "SELECT name, settings FROM kb_bases");
    std::map<std::string, std::string> out;
    while (s.Step()) out[s.Text(0)] = s.Text(1);
    WEFT_RETURN_IF_ERROR(s.status());
    return out;
  }

  Status StoreBase(const std::string& name, const std::string& settings) override {
    MutexLock lock(write_mu_);
    Stmt s(write_, "INSERT INTO kb_bases(name, settings) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING");
    s.Bind(1, name).Bind(2, settings);
    WEFT_RETURN_IF_ERROR(s.Run());
    if (sqlite3_changes(write_.get()) == 0) {
      return Status(StatusCode::kAlreadyExists, "knowledge base '" + name + "' exists");
    }
    return Status::Ok();
  }

  Status DropBase(const std::string& name) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(Begin());
    Status s;
    for (const char* sql : {"DELETE FROM kb_chunks WHERE base = ?1", "DELETE FROM kb_documents WHERE base = ?1",
                            "DELETE FROM kb_bases WHERE name = ?1"}) {
      if (!s.ok()) break;
      Stmt d(write_, sql);
      d.Bind(1, name);
      s = d.Run();
    }
    if (s.ok()) {
      Stmt m(write_, "DELETE FROM kb_meta WHERE key = ?1");
      m.Bind(1, "vectors:" + name);
      s = m.Run();
    }
    return End(s);
  }

  Result<int64_t> VectorGeneration(const std::string& base) override { return Meta("vectors:" + base); }

  Result<int64_t> Meta(const std::string& key) override {
    Reader r = Read();
    WEFT_RETURN_IF_ERROR(r.status);
    Stmt s(*r.db, "SELECT value FROM kb_meta WHERE key = ?1");
    s.Bind(1, key);
    int64_t v = 0;
    if (s.Step()) v = s.Int(0);
    WEFT_RETURN_IF_ERROR(s.status());
    return v;
  }

  Status SetMeta(const std::string& key, int64_t value) override {
    MutexLock lock(write_mu_);
    Stmt s(write_, "INSERT INTO kb_meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2");
    s.Bind(1, key).Bind(2, value);
    return s.Run();
  }

 private:
  // A read connection from the pool, returned when the Reader goes.
  struct Reader {
    SqliteBackend* owner = nullptr;
    std::unique_ptr<Db> db;
    Status status;
    Reader() = default;
    Reader(Reader&&) = default;
    Reader& operator=(Reader&&) = delete;
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    ~Reader() {
      if (owner != nullptr && db && status.ok()) owner->Return(std::move(db));
    }
  };

  Reader Read() {
    Reader r;
    r.owner = this;
    {
      MutexLock lock(pool_mu_);
      if (!pool_.empty()) {
        r.db = std::move(pool_.back());
        pool_.pop_back();
        return r;
      }
    }
    r.db = std::make_unique<Db>();
    r.status = r.db->Open(path_);
    return r;
  }
  void Return(std::unique_ptr<Db> db) {
    MutexLock lock(pool_mu_);
    if (pool_.size() < 8) pool_.push_back(std::move(db));
  }

  static StoredDocument ReadDocumentRow(const Stmt& s) {
    StoredDocument d;
    d.info.id = s.Text(0);
    d.info.title = s.Text(1);
    d.info.source = s.Text(2);
    d.info.language = s.Text(3);
    d.info.tags = SplitTags(s.Text(4));
    d.info.sha256 = s.Text(5);
    d.info.chunks = static_cast<int>(s.Int(6));
    d.info.updated_ms = s.Int(7);
    d.size = s.Int(8);
    d.mtime_ns = s.Int(9);
    return d;
  }

  // How many bases the index holds (cached; grows only).
  int64_t BaseCount(Db& db) {
    const int64_t known = base_count_.load(std::memory_order_relaxed);
    if (known > 0 && ++base_count_reads_ % 64 != 0) return known;
    Stmt s(db, "SELECT count(DISTINCT base) FROM kb_documents");
    const int64_t n = s.Step() ? std::max<int64_t>(1, s.Int(0)) : 1;
    base_count_.store(n, std::memory_order_relaxed);
    return n;
  }

  Status DeleteChunks(const std::string& base, const std::string& id, std::vector<int64_t>& removed)
      WEFT_REQUIRES(write_mu_) {
    Stmt ids(write_, "SELECT id, vector IS NOT NULL FROM kb_chunks WHERE base = ?1 AND document = ?2");
    ids.Bind(1, base).Bind(2, id);
    while (ids.Step()) {
      removed.push_back(ids.Int(0));
      had_vectors_ = had_vectors_ || ids.Int(1) != 0;
    }
    WEFT_RETURN_IF_ERROR(ids.status());
    Stmt del(write_, "DELETE FROM kb_chunks WHERE base = ?1 AND document = ?2");
    del.Bind(1, base).Bind(2, id);
    return del.Run();
  }
  bool HadVectors() const WEFT_REQUIRES(write_mu_) { return had_vectors_; }

  Status BumpGeneration(const std::string& base) WEFT_REQUIRES(write_mu_) {
    Stmt s(write_, "INSERT INTO kb_meta(key, value) VALUES (?1, 1) ON CONFLICT(key) DO UPDATE SET value = value + 1");
    s.Bind(1, "vectors:" + base);
    return s.Run();
  }

  Status Begin() WEFT_REQUIRES(write_mu_) {
    had_vectors_ = false;
    return write_.Exec("BEGIN IMMEDIATE");
  }
  Status End(Status s) WEFT_REQUIRES(write_mu_) {
    if (!s.ok()) {
      (void)write_.Exec("ROLLBACK");
      return s;
    }
    return write_.Exec("COMMIT");
  }

  std::string path_;
  std::string temp_dir_;  // removed at close ("" = none)
  const Clock* clock_;
  Mutex write_mu_;
  Db write_ WEFT_GUARDED_BY(write_mu_);
  bool had_vectors_ WEFT_GUARDED_BY(write_mu_) = false;
  Mutex pool_mu_;
  std::vector<std::unique_ptr<Db>> pool_ WEFT_GUARDED_BY(pool_mu_);
  std::atomic<int64_t> base_count_{0};
  std::atomic<int64_t> base_count_reads_{0};
};

}  // namespace

Result<std::unique_ptr<Backend>> OpenSqliteBackend(const std::string& path, const Clock* clock) {
  auto backend = std::make_unique<SqliteBackend>(path, clock);
  WEFT_RETURN_IF_ERROR(backend->Open());
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace weft::knowledge::internal
