#include "weft/knowledge/knowledge.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "backend.h"
#include "vector_index.h"
#include "weft/core/crypto.h"
#include "weft/core/file.h"
#include "weft/core/json.h"
#include "weft/core/mutex.h"
#include "weft/core/utf8.h"

namespace weft::knowledge {
namespace fs = std::filesystem;
using internal::Backend;
using internal::NewChunk;
using internal::StoredDocument;
using internal::VectorIndex;

namespace {

constexpr int kMaxFilesPerBase = 100'000;
constexpr size_t kMaxQueryTerms = 32;
constexpr size_t kEmbedBatch = 64;
constexpr double kRrfK = 60;            // reciprocal rank fusion's constant (Cormack et al.)
constexpr int64_t kMatchBudget = 2000;  // chunks a keyword query's words may match together (but its rarest)
// Chunks ranked at most: a query whose rarest word is in more chunks than
// this ranks the first found (its words say little about any of them).
constexpr int64_t kRankedCandidates = 4000;

const std::vector<std::string>& DefaultInclude() {
  static const auto* patterns =
      new std::vector<std::string>{"*.md", "*.markdown", "*.txt", "*.text", "*.html", "*.htm", "*.pdf"};
  return *patterns;
}

// Words too common to say what a query is about (a query made only of them
// keeps them all).
const std::set<std::string, std::less<>>& StopWords() {
  static const auto* words = new std::set<std::string, std::less<>>{
      // en
      "a", "an", "the", "and", "or", "but", "is", "are", "was", "were", "be", "been", "am", "do", "does", "did", "i",
      "me", "my", "we", "our", "you", "your", "it", "its", "this", "that", "these", "those", "to", "of", "in", "on",
      "at", "for", "with", "from", "by", "as", "how", "what", "when", "where", "which", "who", "why", "can", "could",
      "would", "should", "will", "please", "there", "here", "have", "has", "had", "so", "if", "not", "no", "yes", "hi",
      "hello", "thanks", "get", "about",
      // fr
      "le", "la", "les", "un", "une", "des", "du", "de", "et", "ou", "est", "sont", "je", "j", "me", "m", "mon", "ma",
      "mes", "nous", "vous", "votre", "vos", "il", "elle", "ce", "cet", "cette", "ces", "que", "qui", "quoi", "dans",
      "sur", "pour", "par", "avec", "au", "aux", "en", "comment", "quand", "où", "pas", "ne", "l", "d", "qu", "bonjour",
      "merci", "est-ce",
      // es, de, it, pt, nl (the commonest)
      "el", "los", "las", "y", "es", "mi", "por", "para", "con", "una", "del", "como", "der", "die", "das", "und",
      "ist", "ich", "mein", "meine", "wie", "zu", "mit", "ein", "eine", "il", "lo", "gli", "di", "che", "è", "per", "o",
      "os", "da", "do", "não", "um", "het", "een", "van", "ik"};
  return *words;
}

// The words of a query, lower-cased (ASCII), stop words dropped unless
// nothing else is left; at most kMaxQueryTerms, each once.
std::vector<std::string> QueryTerms(std::string_view text) {
  std::vector<std::string> all;
  std::set<std::string> seen;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && seen.insert(word).second) all.push_back(word);
    word.clear();
  };
  for (size_t i = 0; i < text.size() && all.size() < 4 * kMaxQueryTerms; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80 || std::isalnum(c)) {
      if (word.size() < 64) word += static_cast<char>(std::tolower(c));
    } else {
      flush();
    }
  }
  flush();
  std::vector<std::string> terms;
  for (const std::string& w : all)
    if (!StopWords().count(w) && IsValidUtf8(w)) terms.push_back(w);
  if (terms.empty())
    for (const std::string& w : all)
      if (IsValidUtf8(w)) terms.push_back(w);
  if (terms.size() > kMaxQueryTerms) terms.resize(kMaxQueryTerms);
  return terms;
}

bool Matches(const Filter& f, const Hit& h) {
  if (!f.language.empty() && h.language != f.language) return false;
  if (!f.documents.empty() && std::find(f.documents.begin(), f.documents.end(), h.document) == f.documents.end())
    return false;
  if (!f.source_prefix.empty() && h.source.compare(0, f.source_prefix.size(), f.source_prefix) != 0) return false;
  if (!f.tags.empty()) {
    bool any = false;
    for (const std::string& t : f.tags) any = any || std::find(h.tags.begin(), h.tags.end(), t) != h.tags.end();
    if (!any) return false;
  }
  return true;
}

bool Filtered(const Filter& f) {
  return !f.language.empty() || !f.documents.empty() || !f.source_prefix.empty() || !f.tags.empty();
}

bool Included(const std::vector<std::string>& patterns, const std::string& relative) {
  const std::string name = fs::path(relative).filename().string();
  for (const std::string& p : patterns) {
    const bool path_pattern = p.find('/') != std::string::npos;
    if (fnmatch(p.c_str(), path_pattern ? relative.c_str() : name.c_str(), path_pattern ? FNM_PATHNAME : 0) == 0)
      return true;
  }
  return false;
}

std::string Sanitize(std::string_view name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return out;
}

// What every document's index of a base depends on besides the document:
// when it changes, a sync reads every file again (their size and time say
// nothing about it).
int64_t SettingsHash(const BaseConfig& base, const std::string& model) {
  const std::string all = model + "/" + std::to_string(base.chunk.max_chars) + "/" +
                          std::to_string(base.chunk.overlap_chars) + "/" + base.language + "/" + [&] {
                            std::string t;
                            for (const std::string& tag : base.tags) t.append(tag).push_back('\x1f');
                            return t;
                          }();
  const std::string digest = Sha256(all);
  int64_t v = 0;
  std::memcpy(&v, digest.data(), sizeof v);
  return v & 0x7fffffffffffffff;
}

// Everything the index of a document depends on.
std::string Fingerprint(const Document& d, const BaseConfig& base, const std::string& model) {
  std::string all;
  for (const std::string& part : {d.title, d.source, d.language, d.text, model}) all.append(part).push_back('\0');
  for (const std::string& t : d.tags) all.append(t).push_back('\x1f');
  all += std::to_string(base.chunk.max_chars) + "/" + std::to_string(base.chunk.overlap_chars);
  return Sha256Hex(all);
}

class KnowledgeImpl final : public Knowledge {
 public:
  explicit KnowledgeImpl(KnowledgeOptions options) : options_(std::move(options)) {
    if (options_.clock == nullptr) options_.clock = &SystemClock::Instance();
  }
  ~KnowledgeImpl() override {
    std::unique_lock all(bases_mu_);
    for (auto& [name, base] : bases_) {
      std::unique_lock lock(base->mu);
      (void)SaveVectors(*base);
    }
  }
  KnowledgeImpl(const KnowledgeImpl&) = delete;
  KnowledgeImpl& operator=(const KnowledgeImpl&) = delete;

  Status Open() {
    std::set<std::string> names;
    for (const BaseConfig& c : options_.bases) {
      if (!names.insert(c.name).second) return InvalidArgumentError("knowledge." + c.name + " is declared twice");
    }
    // Without bases in weft.yaml the database opens at first need (a base
    // declared through the API, or looked for): a process that uses none
    // makes no file.
    if (!options_.bases.empty()) WEFT_RETURN_IF_ERROR(EnsureBackend());
    for (const BaseConfig& c : options_.bases) {
      WEFT_ASSIGN_OR_RETURN(std::shared_ptr<Base> base, MakeBase(c));
      std::unique_lock lock(bases_mu_);
      configured_.insert(c.name);
      bases_[c.name] = std::move(base);
    }
    return options_.bases.empty() ? Status::Ok() : LoadStoredBases();
  }

  // Opens the database once.
  Status EnsureBackend() {
    std::lock_guard lock(backend_mu_);
    if (backend_) return Status::Ok();
    if (options_.database.rfind("postgres://", 0) == 0 || options_.database.rfind("postgresql://", 0) == 0) {
      WEFT_ASSIGN_OR_RETURN(backend_,
                            internal::OpenPostgresBackend(options_.database, options_.schema, options_.clock));
    } else {
      if (options_.database != ":memory:") {
        std::error_code ec;
        fs::create_directories(fs::path(options_.database).parent_path(), ec);
      }
      WEFT_ASSIGN_OR_RETURN(backend_, internal::OpenSqliteBackend(options_.database, options_.clock));
    }
    return Status::Ok();
  }

  std::vector<std::string> bases() const override {
    std::shared_lock lock(bases_mu_);
    std::vector<std::string> out;
    for (const auto& [name, b] : bases_) out.push_back(name);
    return out;
  }
  std::optional<BaseConfig> base(std::string_view name) override {
    Result<std::shared_ptr<Base>> found = Find(name);
    if (!found.ok()) return std::nullopt;
    return (*found)->config;
  }
  // Only the bases this process knows (no database read).
  std::optional<BaseConfig> Known(std::string_view name) const {
    std::shared_lock lock(bases_mu_);
    auto it = bases_.find(name);
    if (it == bases_.end()) return std::nullopt;
    return it->second->config;
  }
  bool Configured(std::string_view name) const override {
    std::shared_lock lock(bases_mu_);
    return configured_.count(std::string(name)) > 0;
  }

  Status CreateBase(BaseConfig config) override {
    WEFT_RETURN_IF_ERROR(EnsureBackend());
    if (!config.folder.empty()) {
      return InvalidArgumentError("a knowledge base made through the API has no folder (declare it in weft.yaml)");
    }
    if (Known(config.name)) {
      return Status(StatusCode::kAlreadyExists, "knowledge base '" + config.name + "' exists");
    }
    WEFT_ASSIGN_OR_RETURN(std::shared_ptr<Base> made, MakeBase(config));
    WEFT_RETURN_IF_ERROR(backend_->StoreBase(config.name, ToJson(BaseConfigToValue(config))));
    std::unique_lock lock(bases_mu_);
    bases_[config.name] = std::move(made);
    return Status::Ok();
  }

  Status DeleteBase(std::string_view name) override {
    if (Configured(name)) {
      return FailedPreconditionError("knowledge base '" + std::string(name) +
                                     "' is declared in weft.yaml: remove it there");
    }
    WEFT_ASSIGN_OR_RETURN(std::shared_ptr<Base> gone, Find(name));
    WEFT_RETURN_IF_ERROR(backend_->DropBase(gone->config.name));
    {
      std::unique_lock lock(bases_mu_);
      bases_.erase(gone->config.name);
    }
    std::unique_lock vectors(gone->mu);
    gone->vectors.reset();
    gone->dirty = false;
    if (const std::string path = VectorPath(*gone); !path.empty()) {
      std::error_code ec;
      fs::remove(path, ec);
      fs::remove(path + ".meta", ec);
    }
    return Status::Ok();
  }

  Result<SyncReport> Sync(std::string_view name) override {
    WEFT_ASSIGN_OR_RETURN(std::shared_ptr<Base> base, Find(name));
    const BaseConfig& c = base->config;
    if (c.folder.empty()) return InvalidArgumentError("knowledge base '" + c.name + "' has no folder");
    std::error_code ec;
    if (!fs::is_directory(c.folder, ec)) {
      return NotFoundError("knowledge base '" + c.name + "': folder " + c.folder + " does not exist");
    }
    SyncReport report;
    const int64_t settings = SettingsHash(c, base->embedder ? base->embedder->model() : "");
    WEFT_ASSIGN_OR_RETURN(const int64_t indexed_with, backend_->Meta("settings:" + c.name));
    const bool same_settings = indexed_with == settings;
    WEFT_ASSIGN_OR_RETURN(std::vector<StoredDocument> stored, backend_->Documents(c.name));
    std::map<std::string, const StoredDocument*> known;
    for (const StoredDocument& d : stored) known[d.info.id] = &d;
    std::set<std::string> seen;
    const std::vector<std::string>& include = c.include.empty() ? DefaultInclude() : c.include;
    fs::recursive_directory_iterator it(c.folder, fs::directory_options::skip_permission_denied, ec);
    int files = 0;
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const fs::directory_entry& entry = *it;
      const std::string leaf = entry.path().filename().string();
      if (!leaf.empty() && leaf[0] == '.') {  // hidden files and folders
        if (entry.is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      // Symbolic links are not followed: the folder holds what is indexed.
      if (!entry.is_regular_file(ec) || entry.is_symlink(ec)) continue;
      const std::string relative = entry.path().lexically_relative(c.folder).generic_string();
      if (!Included(include, relative)) continue;
      if (++files > kMaxFilesPerBase) {
        report.problems.push_back(c.folder + ": more than " + std::to_string(kMaxFilesPerBase) +
                                  " files; the rest are left out");
        break;
      }
      seen.insert(relative);
      const auto size = static_cast<int64_t>(entry.file_size(ec));
      const int64_t mtime = entry.last_write_time(ec).time_since_epoch().count();
      auto k = known.find(relative);
      if (same_settings && k != known.end() && k->second->size == size && k->second->mtime_ns == mtime) {
        ++report.unchanged;
        continue;
      }
      Result<std::string> bytes = ReadFileBounded(entry.path().string(), static_cast<size_t>(c.limits.max_bytes));
      Result<Document> doc = bytes.ok() ? ReadDocument(relative, *bytes, c.limits) : Result<Document>(bytes.status());
      if (!doc.ok()) {
        report.problems.push_back(relative + ": " + doc.status().message());
        continue;
      }
      bool changed = false;
      Result<DocumentInfo> put = PutDocument(*base, std::move(*doc), size, mtime, &changed);
      if (!put.ok()) {
        report.problems.push_back(relative + ": " + put.status().message());
        continue;
      }
      if (!changed) {
        ++report.unchanged;
      } else {
        ++(k == known.end() ? report.added : report.updated);
        report.chunks += put->chunks;
      }
    }
    if (ec) report.problems.push_back(c.folder + ": " + ec.message());
    for (const StoredDocument& d : stored) {
      if (d.size < 0 || seen.count(d.info.id)) continue;  // documents from the API stay
      if (Status s = RemoveDocument(*base, d.info.id); s.ok()) {
        ++report.removed;
      } else {
        report.problems.push_back(d.info.id + ": " + s.message());
      }
    }
    if (!same_settings && report.problems.empty())
      WEFT_RETURN_IF_ERROR(backend_->SetMeta("settings:" + c.name, settings));
    std::unique_lock lock(base->mu);  // saving clears `dirty`
    (void)SaveVectors(*base);
    return report;
  }

  Result<DocumentInfo> Put(std::string_view name, Document document) override {
    WEFT_ASSIGN_OR_RETURN(std::shared_ptr<Base> base, Find(name));
    if (document.id.empty()) return InvalidArgumentError("a document needs an id");
    if (document.id.size() > 1024) return InvalidArgumentError("a document id is at most 1024 bytes");
    if (!IsValidUtf8(document.text) || !IsValidUtf8(document.id) || !IsValidUtf8(document.title)) {
      return InvalidArgumentError("document '" + document.id + "': not UTF-8 text");
    }
    if (static_cast<int64_t>(document.text.size()) > base->config.limits.max_chars) {
      return InvalidArgumentError("document '" + document.id + "': more than " +
                                  std::to_string(base->config.limits.max_chars) + " bytes of text");
    }
    return PutDocument(*base, std::move(document), -1, -1, nullptr);
  }

  Status Remove(std::string_view name, std::string_view id) override {
    WEFT_ASSIGN_OR_RETURN(std::shared_ptr<Base> base, Find(name));
    return RemoveDocument(*base, std::string(id));
  }

  Result<std::vector<DocumentInfo>> Documents(std::string_view name) override {
    WEFT_ASSIGN_OR_RETURN(std::shared_ptr<Base> base, Find(name));
    WEFT_ASSIGN_OR_RETURN(std::vector<StoredDocument> stored, backend_->Documents(base->config.name));
    std::vector<DocumentInfo> out;
    out.reserve(stored.size());
    for (StoredDocument& d : stored) out.push_back(std::move(d.info));
    return out;
  }

  Result<std::vector<Hit>> Search(const Query& query) override {
    WEFT_ASSIGN_OR_RETURN(std::shared_ptr<Base> base, Find(query.base));
    if (query.k < 1 || query.k > 100) return InvalidArgumentError("k must be from 1 to 100");
    if (Trim(query.text).empty()) return InvalidArgumentError("the query is empty");
    if (query.text.size() > 8192) return InvalidArgumentError("the query is longer than 8192 bytes");
    SearchMode mode = query.mode;
    if (mode == SearchMode::kAuto) mode = base->embedder ? SearchMode::kHybrid : SearchMode::kKeyword;
    if ((mode == SearchMode::kVector || mode == SearchMode::kHybrid) && !base->embedder) {
      return InvalidArgumentError("knowledge base '" + base->config.name +
                                  "' has no embedding model: only keyword search");
    }
    // Each list is longer than k so that fusion has something to fuse.
    const int depth = mode == SearchMode::kHybrid ? std::max(query.k * 4, 20) : query.k;
    std::vector<Hit> keyword;
    std::vector<Hit> vector;
    if (mode != SearchMode::kVector) {
      WEFT_ASSIGN_OR_RETURN(keyword, KeywordList(*base, query, depth));
    }
    if (mode != SearchMode::kKeyword) {
      WEFT_ASSIGN_OR_RETURN(vector, VectorList(*base, query, depth));
    }
    if (mode == SearchMode::kKeyword) return Top(std::move(keyword), query.k);
    if (mode == SearchMode::kVector) return Top(std::move(vector), query.k);
    // Reciprocal rank fusion: robust to the two scores' different scales.
    std::map<int64_t, Hit> fused;
    for (size_t i = 0; i < keyword.size(); ++i) {
      Hit& h = fused[keyword[i].chunk_id];
      if (h.chunk_id == 0) h = keyword[i];
      h.keyword_rank = static_cast<int>(i) + 1;
    }
    for (size_t i = 0; i < vector.size(); ++i) {
      Hit& h = fused[vector[i].chunk_id];
      if (h.chunk_id == 0) h = vector[i];
      h.vector_rank = static_cast<int>(i) + 1;
      h.similarity = vector[i].similarity;
    }
    std::vector<Hit> out;
    for (auto& [id, h] : fused) {
      h.score = (h.keyword_rank ? 1 / (kRrfK + h.keyword_rank) : 0) + (h.vector_rank ? 1 / (kRrfK + h.vector_rank) : 0);
      out.push_back(std::move(h));
    }
    std::stable_sort(out.begin(), out.end(), [](const Hit& a, const Hit& b) {
      return a.score != b.score ? a.score > b.score : a.chunk_id < b.chunk_id;
    });
    return Top(std::move(out), query.k);
  }

 private:
  struct Base {
    BaseConfig config;
    std::shared_ptr<Embedder> embedder;
    // Guards the vector index (searches share it; changes are exclusive).
    std::shared_mutex mu;
    std::unique_ptr<VectorIndex> vectors;
    int64_t generation = 0;  // the database's vector generation `vectors` reflects
    bool dirty = false;      // changed since saved
  };

  static std::string_view Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  }

  static std::vector<Hit> Top(std::vector<Hit> hits, int k) {
    if (static_cast<int>(hits.size()) > k) hits.resize(static_cast<size_t>(k));
    return hits;
  }

  // A base with its embedder and vectors (loaded or rebuilt).
  Result<std::shared_ptr<Base>> MakeBase(const BaseConfig& c) {
    auto base = std::make_shared<Base>();
    base->config = c;
    if (!c.embedding.empty()) {
      if (!options_.embedders) {
        return InvalidArgumentError("knowledge." + c.name + ".embedding: no embedding models in this process");
      }
      Result<std::shared_ptr<Embedder>> embedder = options_.embedders(c.embedding);
      if (!embedder.ok()) return embedder.status().WithContext("knowledge." + c.name + ".embedding");
      base->embedder = *embedder;
      std::unique_lock lock(base->mu);
      WEFT_RETURN_IF_ERROR(LoadVectors(*base));
    }
    return base;
  }

  // The bases declared through the API (by any process on the database)
  // that this one does not know yet; weft.yaml's win a name both use.
  Status LoadStoredBases() {
    WEFT_RETURN_IF_ERROR(EnsureBackend());
    WEFT_ASSIGN_OR_RETURN(auto stored, backend_->StoredBases());
    for (const auto& [name, settings] : stored) {
      if (Known(name)) continue;
      Result<Value> v = ParseJson(settings);
      Result<BaseConfig> c = v.ok() ? ReadBaseConfig(name, *v, "", false) : Result<BaseConfig>(v.status());
      if (!c.ok()) return c.status().WithContext("stored knowledge base '" + name + "'");
      WEFT_ASSIGN_OR_RETURN(std::shared_ptr<Base> made, MakeBase(*c));
      std::unique_lock lock(bases_mu_);
      bases_.emplace(name, std::move(made));
    }
    return Status::Ok();
  }

  Result<std::shared_ptr<Base>> Find(std::string_view name) {
    for (int round = 0; round < 2; ++round) {
      {
        std::shared_lock lock(bases_mu_);
        auto it = bases_.find(name);
        if (it != bases_.end()) return it->second;
      }
      // Another process may have made it through the API.
      if (round == 0) WEFT_RETURN_IF_ERROR(LoadStoredBases());
    }
    std::string names;
    for (const std::string& n : bases()) names.append(names.empty() ? "" : ", ").append(n);
    return InvalidArgumentError("no knowledge base '" + std::string(name) + "' (" +
                                (names.empty() ? "none is configured" : "configured: " + names) + ")");
  }

  std::string VectorPath(const Base& base) const {
    return options_.vector_dir.empty() ? "" : options_.vector_dir + "/" + Sanitize(base.config.name) + ".hnsw";
  }

  // Loads the saved index when it reflects the database, else rebuilds it
  // from the stored vectors. Holds base.mu.
  Status LoadVectors(Base& base) {
    WEFT_ASSIGN_OR_RETURN(const int64_t generation, backend_->VectorGeneration(base.config.name));
    if (const std::string path = VectorPath(base); !path.empty()) {
      if (auto loaded = VectorIndex::Load(path, generation)) {
        base.vectors = std::move(loaded);
        base.generation = generation;
        base.dirty = false;
        return Status::Ok();
      }
    }
    std::unique_ptr<VectorIndex> index;
    Status added;
    WEFT_RETURN_IF_ERROR(backend_->ForEachVector(base.config.name, [&](int64_t id, const std::vector<float>& v) {
      // Vectors come oldest first: one of another size is from a newer
      // embedding model, and those before it (documents not embedded
      // again yet) are left out until they are.
      if (!index || index->dimension() != v.size()) index = std::make_unique<VectorIndex>(v.size());
      if (added.ok()) added = index->Add(id, v);
    }));
    WEFT_RETURN_IF_ERROR(added);
    base.vectors = std::move(index);
    base.generation = generation;
    base.dirty = true;
    return Status::Ok();
  }

  Status SaveVectors(Base& base) {
    const std::string path = VectorPath(base);
    if (path.empty() || !base.dirty || !base.embedder) return Status::Ok();
    std::error_code ec;
    fs::create_directories(options_.vector_dir, ec);
    if (!base.vectors) return Status::Ok();
    WEFT_RETURN_IF_ERROR(base.vectors->Save(path, base.generation));
    base.dirty = false;
    return Status::Ok();
  }

  Result<std::vector<std::vector<float>>> Embed(Base& base, const std::vector<std::string>& texts) {
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    for (size_t i = 0; i < texts.size(); i += kEmbedBatch) {
      std::vector<std::string> batch(
          texts.begin() + static_cast<std::ptrdiff_t>(i),
          texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), i + kEmbedBatch)));
      Result<std::vector<std::vector<float>>> vectors = base.embedder->Embed(batch);
      if (!vectors.ok()) return vectors.status().WithContext("embedding with " + base.config.embedding);
      if (vectors->size() != batch.size()) {
        return InternalError("embedding with " + base.config.embedding + ": " + std::to_string(batch.size()) +
                             " texts gave " + std::to_string(vectors->size()) + " vectors");
      }
      for (std::vector<float>& v : *vectors) {
        if (v.empty() || (!out.empty() && v.size() != out.front().size())) {
          return InvalidArgumentError("embedding with " + base.config.embedding + ": vectors of different sizes");
        }
        out.push_back(std::move(v));
      }
    }
    return out;
  }

  // What a chunk's vector is made from: where it sits and what it says.
  static std::string EmbeddingText(const Document& d, const Chunk& c) {
    std::string text = d.title;
    if (!c.heading.empty()) text.append(" — ").append(c.heading);
    return text.append("\n").append(c.text);
  }

  Result<DocumentInfo> PutDocument(Base& base, Document doc, int64_t size, int64_t mtime, bool* changed) {
    const BaseConfig& c = base.config;
    if (doc.language.empty()) doc.language = !c.language.empty() ? c.language : GuessLanguage(doc.text);
    for (const std::string& t : c.tags)
      if (std::find(doc.tags.begin(), doc.tags.end(), t) == doc.tags.end()) doc.tags.push_back(t);
    if (doc.source.empty()) doc.source = doc.id;
    if (doc.title.empty()) doc.title = doc.id;
    const std::string model = base.embedder ? base.embedder->model() : "";
    const std::string sha = Fingerprint(doc, c, model);
    WEFT_ASSIGN_OR_RETURN(std::optional<StoredDocument> old, backend_->GetDocument(c.name, doc.id));
    if (old && old->info.sha256 == sha) {
      if (size >= 0) WEFT_RETURN_IF_ERROR(backend_->Touch(c.name, doc.id, size, mtime));
      if (changed != nullptr) *changed = false;
      return old->info;
    }
    std::vector<NewChunk> chunks;
    for (Chunk& ch : ChunkText(doc.text, c.chunk)) chunks.push_back({std::move(ch), {}});
    if (base.embedder && !chunks.empty()) {
      std::vector<std::string> texts;
      texts.reserve(chunks.size());
      for (const NewChunk& ch : chunks) texts.push_back(EmbeddingText(doc, ch.chunk));
      WEFT_ASSIGN_OR_RETURN(std::vector<std::vector<float>> vectors, Embed(base, texts));
      for (size_t i = 0; i < chunks.size(); ++i) chunks[i].vector = std::move(vectors[i]);
    }
    StoredDocument stored;
    stored.info.id = doc.id;
    stored.info.title = doc.title;
    stored.info.source = doc.source;
    stored.info.language = doc.language;
    stored.info.tags = doc.tags;
    stored.info.sha256 = sha;
    stored.info.chunks = static_cast<int>(chunks.size());
    stored.size = size;
    stored.mtime_ns = mtime;
    std::vector<int64_t> removed;
    std::vector<int64_t> added;
    std::unique_lock lock(base.mu, std::defer_lock);
    if (base.embedder) lock.lock();
    WEFT_RETURN_IF_ERROR(backend_->Replace(c.name, stored, chunks, removed, added));
    if (base.embedder) WEFT_RETURN_IF_ERROR(ApplyVectors(base, removed, added, chunks));
    stored.info.updated_ms = options_.clock->NowMillis();
    if (changed != nullptr) *changed = true;
    return stored.info;
  }

  Status RemoveDocument(Base& base, const std::string& id) {
    std::vector<int64_t> removed;
    std::unique_lock lock(base.mu, std::defer_lock);
    if (base.embedder) lock.lock();
    WEFT_RETURN_IF_ERROR(backend_->Remove(base.config.name, id, removed));
    if (base.embedder) return ApplyVectors(base, removed, {}, {});
    return Status::Ok();
  }

  // After a write of this process: the change applied to the in-memory
  // index when nobody else changed the base's vectors meanwhile, else the
  // index rebuilt. Holds base.mu exclusively.
  Status ApplyVectors(Base& base, const std::vector<int64_t>& removed, const std::vector<int64_t>& added,
                      const std::vector<NewChunk>& chunks) {
    WEFT_ASSIGN_OR_RETURN(const int64_t generation, backend_->VectorGeneration(base.config.name));
    const bool wrote = !added.empty() || !removed.empty();
    if (!wrote) return Status::Ok();
    if (generation != base.generation + 1) return LoadVectors(base);
    for (int64_t id : removed)
      if (base.vectors) base.vectors->Remove(id);
    for (size_t i = 0; i < added.size(); ++i) {
      if (chunks[i].vector.empty()) continue;
      if (!base.vectors) base.vectors = std::make_unique<VectorIndex>(chunks[i].vector.size());
      if (Status s = base.vectors->Add(added[i], chunks[i].vector); !s.ok()) return LoadVectors(base);
    }
    base.generation = generation;
    base.dirty = true;
    return Status::Ok();
  }

  // The query's words that are worth ranking by: rarest first, as long as
  // the chunks they match stay within a budget (the rarest always). Ranking
  // costs per matching chunk, and a word most chunks hold weighs almost
  // nothing in BM25 (its inverse document frequency is near zero): without
  // this, one common word made a query over 100,000 chunks take 300 ms.
  Result<std::vector<std::string>> RankingTerms(const Base& base, std::vector<std::string> terms) {
    if (terms.size() <= 1) return terms;
    std::vector<std::pair<int64_t, std::string>> counted;
    for (std::string& t : terms) {
      WEFT_ASSIGN_OR_RETURN(const int64_t n, backend_->CountMatches(base.config.name, t, kMatchBudget + 1));
      counted.emplace_back(n, std::move(t));
    }
    std::stable_sort(counted.begin(), counted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> out;
    int64_t total = 0;
    for (auto& [n, t] : counted) {
      if (n == 0) continue;  // matches nothing: nothing to rank by
      if (!out.empty() && total + n > kMatchBudget) break;
      total += n;
      out.push_back(std::move(t));
    }
    return out;
  }

  Result<std::vector<Hit>> KeywordList(Base& base, const Query& query, int depth) {
    WEFT_ASSIGN_OR_RETURN(const std::vector<std::string> terms, RankingTerms(base, QueryTerms(query.text)));
    if (terms.empty()) return std::vector<Hit>{};
    const bool filtered = Filtered(query.filter);
    // With a filter, look deeper until enough rows pass it (or none is left).
    for (int limit = filtered ? depth * 8 : depth;; limit *= 8) {
      WEFT_ASSIGN_OR_RETURN(std::vector<Hit> rows,
                            backend_->Keyword(base.config.name, terms, limit, kRankedCandidates));
      const bool exhausted = static_cast<int>(rows.size()) < limit;
      std::vector<Hit> out;
      for (Hit& h : rows) {
        if (!Matches(query.filter, h)) continue;
        h.keyword_rank = static_cast<int>(out.size()) + 1;
        out.push_back(std::move(h));
        if (static_cast<int>(out.size()) == depth) break;
      }
      if (static_cast<int>(out.size()) == depth || exhausted || limit > 1'000'000) return out;
    }
  }

  Result<std::vector<Hit>> VectorList(Base& base, const Query& query, int depth) {
    WEFT_ASSIGN_OR_RETURN(std::vector<std::vector<float>> q, Embed(base, {query.text}));
    {
      // Another process may have changed the base: its generation says.
      WEFT_ASSIGN_OR_RETURN(const int64_t generation, backend_->VectorGeneration(base.config.name));
      std::unique_lock lock(base.mu);
      if (generation != base.generation) WEFT_RETURN_IF_ERROR(LoadVectors(base));
    }
    const bool filtered = Filtered(query.filter);
    for (size_t want = static_cast<size_t>(filtered ? depth * 8 : depth);; want *= 8) {
      std::vector<std::pair<int64_t, float>> nearest;
      size_t live = 0;
      {
        std::shared_lock lock(base.mu);
        if (!base.vectors) return std::vector<Hit>{};
        // Vectors of another model (the base is being embedded again):
        // keywords only until they are.
        if (base.vectors->dimension() != q.front().size()) return std::vector<Hit>{};
        nearest = base.vectors->Nearest(q.front(), want);
        live = base.vectors->size();
      }
      std::vector<int64_t> ids;
      std::map<int64_t, float> similarity;
      for (const auto& [id, s] : nearest) {
        ids.push_back(id);
        similarity[id] = s;
      }
      WEFT_ASSIGN_OR_RETURN(std::vector<Hit> rows, backend_->Chunks(ids));
      std::map<int64_t, Hit> by_id;
      for (Hit& h : rows) by_id[h.chunk_id] = std::move(h);
      std::vector<Hit> out;
      for (int64_t id : ids) {
        auto it = by_id.find(id);
        if (it == by_id.end() || !Matches(query.filter, it->second)) continue;
        Hit h = std::move(it->second);
        h.similarity = similarity[id];
        h.score = h.similarity;
        h.vector_rank = static_cast<int>(out.size()) + 1;
        out.push_back(std::move(h));
        if (static_cast<int>(out.size()) == depth) break;
      }
      if (static_cast<int>(out.size()) == depth || want >= live) return out;
    }
  }

  KnowledgeOptions options_;
  // Set once (EnsureBackend), before any base exists: every other use comes
  // after finding a base, under bases_mu_, which orders it after the set.
  std::mutex backend_mu_;
  std::unique_ptr<Backend> backend_;
  // The bases; a Base in use stays alive after its removal (shared_ptr).
  mutable std::shared_mutex bases_mu_;
  std::map<std::string, std::shared_ptr<Base>, std::less<>> bases_;  // guarded by bases_mu_
  std::set<std::string> configured_;                                 // guarded by bases_mu_: weft.yaml's
};

Status StringList(const Value& v, const std::string& where, std::vector<std::string>& out) {
  if (v.is_undefined()) return Status::Ok();
  if (v.is_string()) {
    out.push_back(v.as_string());
    return Status::Ok();
  }
  if (!v.is_array()) return InvalidArgumentError(where + ": expected a list of strings");
  for (const Value& item : v.as_array()) {
    if (!item.is_string()) return InvalidArgumentError(where + ": expected a list of strings");
    out.push_back(item.as_string());
  }
  return Status::Ok();
}

Status WholeNumber(const Value& v, const std::string& where, int min, int max, int& out) {
  if (v.is_undefined()) return Status::Ok();
  if (!v.is_number() || v.as_number() < min || v.as_number() > max || v.as_number() != static_cast<int>(v.as_number()))
    return InvalidArgumentError(where + ": expected a whole number from " + std::to_string(min) + " to " +
                                std::to_string(max));
  out = static_cast<int>(v.as_number());
  return Status::Ok();
}

}  // namespace

Result<BaseConfig> ReadBaseConfig(const std::string& name, const Value& settings, const std::string& config_dir,
                                  bool allow_folder) {
  static const std::set<std::string, std::less<>> kKeys = {"folder", "include",   "language",   "tags",
                                                           "chunk",  "embedding", "max_file_mb"};
  const std::string where = "knowledge." + name;
  if (name.empty() || name.size() > 64 || Sanitize(name) != name) {
    return InvalidArgumentError(where + ": a base's name is letters, digits, '-' and '_'");
  }
  if (!settings.is_object()) return InvalidArgumentError(where + ": expected a mapping");
  for (const auto& k : settings.members()) {
    if (!kKeys.count(k.key) || (!allow_folder && (k.key == "folder" || k.key == "include"))) {
      return InvalidArgumentError(where + ": unknown key '" + k.key + "' (" +
                                  (allow_folder ? "folder, include, " : "") +
                                  "language, tags, chunk, embedding, max_file_mb)");
    }
  }
  BaseConfig c;
  c.name = name;
  if (const Value f = settings.get("folder"); f.is_defined()) {
    if (!f.is_string() || f.as_string().empty()) return InvalidArgumentError(where + ".folder: expected a path");
    fs::path p = f.as_string();
    if (p.is_relative() && !config_dir.empty()) p = fs::path(config_dir) / p;
    c.folder = p.lexically_normal().string();
  }
  WEFT_RETURN_IF_ERROR(StringList(settings.get("include"), where + ".include", c.include));
  WEFT_RETURN_IF_ERROR(StringList(settings.get("tags"), where + ".tags", c.tags));
  if (const Value l = settings.get("language"); l.is_defined()) {
    if (!l.is_string()) return InvalidArgumentError(where + ".language: expected a code such as en or fr");
    c.language = l.as_string();
  }
  if (const Value e = settings.get("embedding"); e.is_defined()) {
    if (!e.is_string()) return InvalidArgumentError(where + ".embedding: expected a model alias");
    c.embedding = e.as_string();
  }
  if (const Value ch = settings.get("chunk"); ch.is_defined()) {
    if (!ch.is_object()) return InvalidArgumentError(where + ".chunk: expected {max_chars, overlap_chars}");
    for (const auto& k : ch.members()) {
      if (k.key != "max_chars" && k.key != "overlap_chars") {
        return InvalidArgumentError(where + ".chunk: unknown key '" + k.key + "' (max_chars, overlap_chars)");
      }
    }
    WEFT_RETURN_IF_ERROR(WholeNumber(ch.get("max_chars"), where + ".chunk.max_chars", 200, 20'000, c.chunk.max_chars));
    WEFT_RETURN_IF_ERROR(WholeNumber(ch.get("overlap_chars"), where + ".chunk.overlap_chars", 0, c.chunk.max_chars / 2,
                                     c.chunk.overlap_chars));
  }
  int max_mb = static_cast<int>(c.limits.max_bytes >> 20);
  WEFT_RETURN_IF_ERROR(WholeNumber(settings.get("max_file_mb"), where + ".max_file_mb", 1, 1024, max_mb));
  c.limits.max_bytes = static_cast<int64_t>(max_mb) << 20;
  return c;
}

Value BaseConfigToValue(const BaseConfig& c) {
  Value v = Value::MakeObject();
  if (!c.language.empty()) v.set("language", c.language);
  if (!c.tags.empty()) v.set("tags", StringArray(c.tags));
  Value chunk = Value::MakeObject();
  chunk.set("max_chars", c.chunk.max_chars);
  chunk.set("overlap_chars", c.chunk.overlap_chars);
  v.set("chunk", chunk);
  if (!c.embedding.empty()) v.set("embedding", c.embedding);
  v.set("max_file_mb", static_cast<double>(c.limits.max_bytes >> 20));
  return v;
}

Result<std::vector<BaseConfig>> ReadBaseConfigs(const Value& section, const std::string& config_dir) {
  std::vector<BaseConfig> out;
  if (section.is_undefined() || section.is_null()) return out;
  if (!section.is_object()) return InvalidArgumentError("knowledge: expected a mapping of knowledge bases");
  for (const auto& m : section.members()) {
    WEFT_ASSIGN_OR_RETURN(BaseConfig c, ReadBaseConfig(m.key, m.value, config_dir, true));
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::unique_ptr<Knowledge>> Knowledge::Open(KnowledgeOptions options) {
  auto k = std::make_unique<KnowledgeImpl>(std::move(options));
  WEFT_RETURN_IF_ERROR(k->Open());
  return std::unique_ptr<Knowledge>(std::move(k));
}

Value HitToValue(const Hit& hit) {
  Value v = Value::MakeObject();
  v.set("text", hit.text);
  v.set("score", hit.score);
  v.set("title", hit.title);
  v.set("source", hit.source);
  if (!hit.heading.empty()) v.set("heading", hit.heading);
  v.set("document", hit.document);
  v.set("chunk", static_cast<double>(hit.ordinal));
  if (!hit.language.empty()) v.set("language", hit.language);
  v.set("tags", StringArray(hit.tags));
  if (hit.vector_rank > 0) v.set("similarity", static_cast<double>(hit.similarity));
  return v;
}

Value DocumentInfoToValue(const DocumentInfo& d) {
  Value o = Value::MakeObject();
  o.set("id", d.id);
  o.set("title", d.title);
  o.set("source", d.source);
  o.set("language", d.language);
  o.set("tags", StringArray(d.tags));
  o.set("chunks", d.chunks);
  o.set("sha256", d.sha256);
  o.set("updated_ms", static_cast<double>(d.updated_ms));
  return o;
}

}  // namespace weft::knowledge
