// Knowledge bases: indexing folders and documents, keyword, vector and
// hybrid retrieval, on SQLite (and PostgreSQL when WEFT_TEST_POSTGRES names
// a server), with embeddings from a fake OpenAI-compatible server on
// loopback.
#include "weft/knowledge/knowledge.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "fake_embeddings.h"
#include "test_pdf.h"
#include "weft/ai/embeddings.h"
#include "weft/core/crypto.h"
#include "weft/core/json.h"
#include "weft/store/pg_conn.h"

namespace weft::knowledge {
namespace {

namespace fs = std::filesystem;

const fs::path kHelp = fs::path(WEFT_SOURCE_DIR) / "examples" / "knowledge" / "help";

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

struct Labelled {
  std::string query;
  std::string document;
};

std::vector<Labelled> HelpQueries() {
  std::vector<Labelled> out;
  std::ifstream in(fs::path(WEFT_SOURCE_DIR) / "tests" / "knowledge" / "data" / "help_queries.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Value v = ParseJson(line).value();
    out.push_back({v.get("query").as_string(), v.get("document").as_string()});
  }
  return out;
}

// Where the index lives: an SQLite file, or a PostgreSQL schema of its own.
enum class Db { kSqlite, kPostgres };

class KnowledgeTest : public ::testing::TestWithParam<Db> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("weft_knowledge_" + std::to_string(::getpid()) + "_" + RandomHex(4));
    fs::create_directories(dir_);
    if (GetParam() == Db::kPostgres) {
      const char* url = std::getenv("WEFT_TEST_POSTGRES");
      if (url == nullptr) GTEST_SKIP() << "WEFT_TEST_POSTGRES is not set";
      database_ = url;
      schema_ = "kb_test_" + RandomHex(4);
    } else {
      database_ = (dir_ / "knowledge.db").string();
    }
    ai::Env no_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
    Value models = ParseJson(R"({"embed": {"provider": "openai", "model": "fake-embed", "base_url": ")" +
                             embeddings_.base_url() + R"(", "max_retries": 0, "timeout_ms": 5000}})")
                       .value();
    models_ = ai::Models::FromConfig(models, http_.get(), no_env).value();
  }
  void TearDown() override {
    knowledge_.reset();
    if (!schema_.empty()) {
      store::pg::Conn c;
      if (c.Connect(database_, "", 10).ok()) (void)c.Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  BaseConfig Base(std::string name, const fs::path& folder, bool vectors) {
    BaseConfig c;
    c.name = std::move(name);
    c.folder = folder.string();
    if (vectors) c.embedding = "embed";
    return c;
  }

  Status Open(std::vector<BaseConfig> bases, bool save_vectors = true) {
    knowledge_.reset();
    KnowledgeOptions o;
    o.database = database_;
    o.schema = schema_;
    if (save_vectors) o.vector_dir = (dir_ / "vectors").string();
    o.bases = std::move(bases);
    ai::Models* models = models_.get();
    http::Client* http = http_.get();
    o.embedders = [models, http](std::string_view alias) { return ai::NewEmbedder(*models, alias, http); };
    Result<std::unique_ptr<Knowledge>> k = Knowledge::Open(std::move(o));
    if (!k.ok()) return k.status();
    knowledge_ = std::move(*k);
    return Status::Ok();
  }

  std::vector<std::string> Documents(const std::string& base, const std::string& text, int k = 5,
                                     SearchMode mode = SearchMode::kAuto, Filter filter = {}) {
    Query q;
    q.base = base;
    q.text = text;
    q.k = k;
    q.mode = mode;
    q.filter = std::move(filter);
    Result<std::vector<Hit>> hits = knowledge_->Search(q);
    EXPECT_TRUE(hits.ok()) << hits.status();
    std::vector<std::string> out;
    if (hits.ok())
      for (const Hit& h : *hits) out.push_back(h.document);
    return out;
  }

  // recall@5 over the labelled help-centre queries.
  double Recall(const std::string& base, SearchMode mode) {
    const std::vector<Labelled> queries = HelpQueries();
    int found = 0;
    for (const Labelled& l : queries) {
      std::vector<std::string> docs = Documents(base, l.query, 5, mode);
      if (std::find(docs.begin(), docs.end(), l.document) != docs.end()) {
        ++found;
      } else {
        ADD_FAILURE() << "not in the top 5: \"" << l.query << "\" -> " << l.document;
      }
    }
    return static_cast<double>(found) / static_cast<double>(queries.size());
  }

  fs::path dir_;
  std::string database_;
  std::string schema_;
  testing::FakeEmbeddings embeddings_;
  std::unique_ptr<http::Client> http_ = http::NewCurlClient();
  std::shared_ptr<ai::Models> models_;
  std::unique_ptr<Knowledge> knowledge_;
};

TEST_P(KnowledgeTest, TheHelpCentreIsFoundByKeywords) {
  ASSERT_TRUE(Open({Base("help", kHelp, false)}).ok());
  Result<SyncReport> report = knowledge_->Sync("help");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->added, 10);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_GE(HelpQueries().size(), 30u);
  const double recall = Recall("help", SearchMode::kKeyword);
  std::cout << "keyword recall@5 on " << HelpQueries().size() << " labelled queries: " << recall << "\n";
  EXPECT_GE(recall, 0.9);
  // The example's question: the steps to download an invoice come first.
  Query q;
  q.base = "help";
  q.text = "How do I download my invoice?";
  Result<std::vector<Hit>> hits = knowledge_->Search(q);
  ASSERT_TRUE(hits.ok() && !hits->empty());
  EXPECT_EQ(hits->front().document, "billing/download-invoice.md");
  EXPECT_EQ(hits->front().heading, "Download your invoices > From the web app");
  EXPECT_EQ(hits->front().source, "https://help.example.com/billing/download-invoice");
  EXPECT_EQ(hits->front().title, "Download your invoices");
  EXPECT_GT(hits->front().score, 0);
  EXPECT_EQ(hits->front().keyword_rank, 1);
}

TEST_P(KnowledgeTest, HybridRetrievalFindsParaphrasesKeywordsMiss) {
  ASSERT_TRUE(Open({Base("help", kHelp, true)}).ok());
  ASSERT_TRUE(knowledge_->Sync("help").ok());
  EXPECT_GT(embeddings_.texts(), 10);
  const double hybrid = Recall("help", SearchMode::kHybrid);
  std::cout << "hybrid recall@5: " << hybrid << "\n";
  EXPECT_GE(hybrid, 0.9);
  // No word in common with the article ("bill", "copy" vs "invoice", "download").
  const std::string paraphrase = "get a copy of my bill";
  EXPECT_EQ(Documents("help", paraphrase, 1, SearchMode::kVector).front(), "billing/download-invoice.md");
  EXPECT_EQ(Documents("help", paraphrase, 1, SearchMode::kHybrid).front(), "billing/download-invoice.md");
  // Modes a base without vectors cannot do are refused.
  ASSERT_TRUE(Open({Base("plain", kHelp, false)}).ok());
  Query q;
  q.base = "plain";
  q.text = "invoice";
  q.mode = SearchMode::kVector;
  EXPECT_EQ(knowledge_->Search(q).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(KnowledgeTest, SyncIndexesOnlyWhatChangedAndDropsWhatWentAway) {
  const fs::path folder = dir_ / "docs";
  Write(folder / "a.md", "# Parking\n\nThe parking garage closes at midnight.\n");
  Write(folder / "b.md", "# Lunch\n\nThe canteen serves lunch from noon.\n");
  Write(folder / "sub" / "c.txt", "Badges are renewed every January.\n");
  Write(folder / ".hidden.md", "# Secret\n\nnot indexed\n");
  Write(folder / "notes.docx", "not included by default");
  ASSERT_TRUE(Open({Base("office", folder, true)}).ok());
  Result<SyncReport> first = knowledge_->Sync("office");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->added, 3);
  EXPECT_EQ(first->chunks, 3);
  const int embedded = embeddings_.texts();
  EXPECT_EQ(embedded, 3);

  // Nothing changed: nothing read again, nothing embedded.
  Result<SyncReport> again = knowledge_->Sync("office");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 3);
  EXPECT_EQ(again->added + again->updated + again->removed, 0);
  EXPECT_EQ(embeddings_.texts(), embedded);

  // A document added through the API stays when the folder is synced.
  Document api;
  api.id = "api/holidays";
  api.title = "Holidays";
  api.text = "The office is closed on public holidays.";
  ASSERT_TRUE(knowledge_->Put("office", api).ok());

  // One file changed, one rewritten with the same text (new time), one deleted, one not readable.
  Write(folder / "a.md", "# Parking\n\nThe parking garage now closes at ten in the evening.\n");
  Write(folder / "b.md", "# Lunch\n\nThe canteen serves lunch from noon.\n");
  fs::last_write_time(folder / "b.md", fs::last_write_time(folder / "b.md") + std::chrono::seconds(5));
  fs::remove(folder / "sub" / "c.txt");
  Write(folder / "broken.md", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
  Result<SyncReport> changed = knowledge_->Sync("office");
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->updated, 1);
  EXPECT_EQ(changed->unchanged, 1);
  EXPECT_EQ(changed->removed, 1);
  ASSERT_EQ(changed->problems.size(), 1u);
  EXPECT_NE(changed->problems[0].find("broken.md"), std::string::npos) << changed->problems[0];
  EXPECT_EQ(embeddings_.texts(), embedded + 1 + 1);  // the API document, the changed file

  EXPECT_EQ(Documents("office", "when does the parking garage close", 1, SearchMode::kKeyword).front(), "a.md");
  Query q;
  q.base = "office";
  q.text = "parking garage";
  q.k = 1;
  Result<std::vector<Hit>> hit = knowledge_->Search(q);
  ASSERT_TRUE(hit.ok() && hit->size() == 1);
  EXPECT_NE(hit->front().text.find("ten in the evening"), std::string::npos) << hit->front().text;
  for (SearchMode mode : {SearchMode::kKeyword, SearchMode::kVector}) {
    std::vector<std::string> badges = Documents("office", "badges renewed January", 5, mode);
    EXPECT_EQ(std::find(badges.begin(), badges.end(), "sub/c.txt"), badges.end()) << "a deleted file was found";
  }
  Result<std::vector<DocumentInfo>> docs = knowledge_->Documents("office");
  ASSERT_TRUE(docs.ok());
  std::vector<std::string> ids;
  for (const DocumentInfo& d : *docs) ids.push_back(d.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a.md", "api/holidays", "b.md"}));

  // Removing through the API.
  ASSERT_TRUE(knowledge_->Remove("office", "api/holidays").ok());
  EXPECT_EQ(knowledge_->Remove("office", "api/holidays").code(), StatusCode::kNotFound);
  EXPECT_TRUE(Documents("office", "public holidays", 5, SearchMode::kKeyword).empty());
}

TEST_P(KnowledgeTest, VectorsAreSavedAndAStaleOrDamagedIndexIsRebuilt) {
  ASSERT_TRUE(Open({Base("help", kHelp, true)}).ok());
  ASSERT_TRUE(knowledge_->Sync("help").ok());
  const std::string expected = Documents("help", "get a copy of my bill", 3, SearchMode::kVector).front();
  knowledge_.reset();  // saves the vectors
  ASSERT_TRUE(fs::exists(dir_ / "vectors" / "help.hnsw"));

  // Reopened: nothing embedded again but the query.
  int before = embeddings_.texts();
  ASSERT_TRUE(Open({Base("help", kHelp, true)}).ok());
  ASSERT_TRUE(knowledge_->Sync("help").ok());
  EXPECT_EQ(Documents("help", "get a copy of my bill", 3, SearchMode::kVector).front(), expected);
  EXPECT_EQ(embeddings_.texts(), before + 1);
  knowledge_.reset();

  // A damaged file is not loaded (its checksum says so): rebuilt from the database.
  {
    std::fstream f(dir_ / "vectors" / "help.hnsw", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.write("garbage!", 8);
  }
  ASSERT_TRUE(Open({Base("help", kHelp, true)}).ok());
  EXPECT_EQ(Documents("help", "get a copy of my bill", 3, SearchMode::kVector).front(), expected);

  // Another process changed the base: this one sees it at its next search.
  ASSERT_TRUE(Open({Base("help", kHelp, true)}, false).ok());
  KnowledgeOptions other_options;
  other_options.database = database_;
  other_options.schema = schema_;
  other_options.bases = {Base("help", kHelp, true)};
  ai::Models* models = models_.get();
  http::Client* http = http_.get();
  other_options.embedders = [models, http](std::string_view alias) { return ai::NewEmbedder(*models, alias, http); };
  std::unique_ptr<Knowledge> other = Knowledge::Open(std::move(other_options)).value();
  Document d;
  d.id = "new/receipts";
  d.title = "Receipts";
  d.text = "A receipt receipt receipt bill bill for every statement.";
  ASSERT_TRUE(other->Put("help", d).ok());
  EXPECT_EQ(Documents("help", "receipt bill statement", 1, SearchMode::kVector).front(), "new/receipts");
}

TEST_P(KnowledgeTest, FiltersLanguagesAndPdfs) {
  const fs::path folder = dir_ / "mixed";
  fs::create_directories(folder);
  fs::copy(kHelp / "fr", folder / "fr", fs::copy_options::recursive);
  fs::copy(kHelp / "billing", folder / "billing", fs::copy_options::recursive);
  Write(folder / "guides" / "refund-guide.pdf",
        testing::MakePdf({"Refund guide for resellers", "Resellers ask refunds through the partner portal"}));
  ASSERT_TRUE(Open({Base("kb", folder, false)}).ok());
  Result<SyncReport> r = knowledge_->Sync("kb");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->problems.empty()) << r->problems.front();
  Result<std::vector<DocumentInfo>> docs = knowledge_->Documents("kb");
  ASSERT_TRUE(docs.ok());
  for (const DocumentInfo& d : *docs) {
    if (d.id.ends_with(".md")) {
      EXPECT_EQ(d.language, d.id.rfind("fr/", 0) == 0 ? "fr" : "en") << d.id;
    }
  }
  // A French question finds the French article; so does a language filter.
  EXPECT_EQ(Documents("kb", "Comment télécharger mes factures ?", 1).front(), "fr/telecharger-facture.md");
  Filter fr;
  fr.language = "fr";
  EXPECT_EQ(Documents("kb", "factures PDF", 5, SearchMode::kAuto, fr),
            (std::vector<std::string>{"fr/telecharger-facture.md"}));
  Filter refunds;
  refunds.tags = {"refunds"};
  for (const std::string& doc : Documents("kb", "refund", 5, SearchMode::kAuto, refunds))
    EXPECT_EQ(doc, "billing/refunds.md");
  Filter only;
  only.documents = {"billing/change-card.md"};
  EXPECT_EQ(Documents("kb", "invoice card", 5, SearchMode::kAuto, only).front(), "billing/change-card.md");
  // The PDF's text is searchable.
  EXPECT_EQ(Documents("kb", "partner portal resellers", 1).front(), "guides/refund-guide.pdf");
}

TEST_P(KnowledgeTest, BadInputIsRefusedAndNothingIsHalfWritten) {
  ASSERT_TRUE(Open({Base("help", kHelp, true)}).ok());
  Query q;
  q.base = "nope";
  q.text = "x";
  EXPECT_EQ(knowledge_->Search(q).status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(knowledge_->Search(q).status().message().find("configured: help"), std::string::npos);
  q.base = "help";
  q.text = "   ";
  EXPECT_EQ(knowledge_->Search(q).status().code(), StatusCode::kInvalidArgument);
  q.text = "invoice";
  q.k = 0;
  EXPECT_EQ(knowledge_->Search(q).status().code(), StatusCode::kInvalidArgument);
  q.k = 5;
  q.text = "\"*) OR NEAR(( ^ -- '";  // FTS syntax is only ever words here
  EXPECT_TRUE(knowledge_->Search(q).ok()) << knowledge_->Search(q).status();

  // The embedding model fails: the document is not stored at all.
  Document d;
  d.id = "doomed";
  d.text = "Some text about invoices.";
  embeddings_.set_status(500);
  Result<DocumentInfo> failed = knowledge_->Put("help", d);
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status();
  EXPECT_NE(failed.status().message().find("embedding with embed"), std::string::npos) << failed.status();
  embeddings_.set_status(0);
  embeddings_.set_malformed(true);
  EXPECT_FALSE(knowledge_->Put("help", d).ok());
  embeddings_.set_malformed(false);
  EXPECT_TRUE(knowledge_->Documents("help")->empty());
  d.text = "caf\xe9";
  EXPECT_EQ(knowledge_->Put("help", d).status().code(), StatusCode::kInvalidArgument);
  d.id = "";
  EXPECT_EQ(knowledge_->Put("help", d).status().code(), StatusCode::kInvalidArgument);

  // Configuration mistakes name the base and the key.
  Result<std::vector<BaseConfig>> bad =
      ReadBaseConfigs(ParseJson(R"({"help": {"folder": "kb", "chunk": {"max_chars": 10}}})").value(), "");
  EXPECT_NE(bad.status().message().find("knowledge.help.chunk.max_chars"), std::string::npos) << bad.status();
  bad = ReadBaseConfigs(ParseJson(R"({"help": {"foldr": "kb"}})").value(), "");
  EXPECT_NE(bad.status().message().find("unknown key 'foldr'"), std::string::npos) << bad.status();
  Result<std::vector<BaseConfig>> good = ReadBaseConfigs(ParseJson(R"({"help": {"folder": "kb"}})").value(), "/etc/w");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->front().folder, "/etc/w/kb");
  // A missing folder is an error of the base.
  ASSERT_TRUE(Open({Base("gone", dir_ / "does-not-exist", false)}).ok());
  EXPECT_EQ(knowledge_->Sync("gone").status().code(), StatusCode::kNotFound);
}

TEST_P(KnowledgeTest, SearchesRunWhileDocumentsChange) {
  ASSERT_TRUE(Open({Base("help", kHelp, true)}).ok());
  ASSERT_TRUE(knowledge_->Sync("help").ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        Query q;
        q.base = "help";
        q.text = "download invoice";
        Result<std::vector<Hit>> hits = knowledge_->Search(q);
        if (!hits.ok() || hits->empty()) ++failures;
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    Document d;
    d.id = "churn/" + std::to_string(i % 4);
    d.text = "Revision " + std::to_string(i) + " of a note about invoices and receipts.";
    ASSERT_TRUE(knowledge_->Put("help", d).ok());
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_P(KnowledgeTest, BasesDeclaredThroughTheApiOutliveTheProcessAndAreSeenByOthers) {
  ASSERT_TRUE(Open({Base("help", kHelp, false)}).ok());
  BaseConfig notes;
  notes.name = "notes";
  notes.tags = {"internal"};
  notes.embedding = "embed";
  ASSERT_TRUE(knowledge_->CreateBase(notes).ok());
  EXPECT_EQ(knowledge_->CreateBase(notes).code(), StatusCode::kAlreadyExists);
  BaseConfig help = Base("help", kHelp, false);
  help.folder.clear();
  EXPECT_EQ(knowledge_->CreateBase(help).code(), StatusCode::kAlreadyExists) << "weft.yaml's name";
  BaseConfig with_folder = Base("elsewhere", dir_, false);
  EXPECT_EQ(knowledge_->CreateBase(with_folder).code(), StatusCode::kInvalidArgument);
  Document d;
  d.id = "n1";
  d.text = "The quarterly review is on the first Monday of the quarter.";
  ASSERT_TRUE(knowledge_->Put("notes", d).ok());
  EXPECT_FALSE(knowledge_->Configured("notes"));
  EXPECT_TRUE(knowledge_->Configured("help"));
  EXPECT_EQ(knowledge_->DeleteBase("help").code(), StatusCode::kFailedPrecondition);

  // Another process on the same database finds it at first use.
  KnowledgeOptions other_options;
  other_options.database = database_;
  other_options.schema = schema_;
  ai::Models* models = models_.get();
  http::Client* http = http_.get();
  other_options.embedders = [models, http](std::string_view alias) { return ai::NewEmbedder(*models, alias, http); };
  std::unique_ptr<Knowledge> other = Knowledge::Open(std::move(other_options)).value();
  Query q;
  q.base = "notes";
  q.text = "quarterly review";
  Result<std::vector<Hit>> hits = other->Search(q);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ(hits->front().tags, std::vector<std::string>{"internal"});
  other.reset();

  // Reopened: still there, with its settings.
  ASSERT_TRUE(Open({Base("help", kHelp, false)}).ok());
  ASSERT_TRUE(knowledge_->base("notes").has_value());
  EXPECT_EQ(knowledge_->base("notes")->embedding, "embed");
  ASSERT_TRUE(knowledge_->DeleteBase("notes").ok());
  EXPECT_FALSE(knowledge_->base("notes").has_value());
  EXPECT_EQ(knowledge_->Search(q).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(knowledge_->DeleteBase("notes").code(), StatusCode::kInvalidArgument);
  // Its documents went with it: a new base of that name starts empty.
  notes.embedding.clear();
  ASSERT_TRUE(knowledge_->CreateBase(notes).ok());
  EXPECT_TRUE(knowledge_->Documents("notes")->empty());
}

// Another embedding model (vectors of another size): the base is embedded
// again at the next sync, and searches work throughout.
TEST_P(KnowledgeTest, ChangingTheEmbeddingModelEmbedsTheBaseAgain) {
  ASSERT_TRUE(Open({Base("help", kHelp, true)}).ok());
  ASSERT_TRUE(knowledge_->Sync("help").ok());
  // A model of 3 dimensions under another alias (the fake server answers 64:
  // an in-process embedder stands in).
  class Small final : public Embedder {
   public:
    std::string model() const override { return "small-3"; }
    Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
      std::vector<std::vector<float>> out;
      for (const std::string& t : texts) {
        const bool invoice = t.find("nvoice") != std::string::npos;
        out.push_back({invoice ? 1.0F : 0.0F, invoice ? 0.0F : 1.0F, 0.1F});
      }
      return out;
    }
  };
  knowledge_.reset();
  KnowledgeOptions o;
  o.database = database_;
  o.schema = schema_;
  o.vector_dir = (dir_ / "vectors").string();
  BaseConfig b = Base("help", kHelp, true);
  b.embedding = "small";
  o.bases = {b};
  o.embedders = [](std::string_view) -> Result<std::shared_ptr<Embedder>> {
    return std::shared_ptr<Embedder>(std::make_shared<Small>());
  };
  knowledge_ = Knowledge::Open(std::move(o)).value();
  Query q;
  q.base = "help";
  q.text = "invoice";
  q.mode = SearchMode::kHybrid;
  EXPECT_TRUE(knowledge_->Search(q).ok()) << "before the sync: old vectors left out, keywords still work";
  Result<SyncReport> r = knowledge_->Sync("help");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->updated, 10) << "every document embedded again";
  q.mode = SearchMode::kVector;
  Result<std::vector<Hit>> hits = knowledge_->Search(q);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_FALSE(hits->empty());
  EXPECT_NE(hits->front().text.find("nvoice"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, KnowledgeTest, ::testing::Values(Db::kSqlite, Db::kPostgres),
                         [](const auto& info) { return info.param == Db::kSqlite ? "sqlite" : "postgres"; });

}  // namespace
}  // namespace weft::knowledge
