// The retrieve step through the engine: its result, its history, its
// validation against the configured knowledge bases.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "run_workflow.h"
#include "test_pdf.h"
#include "weft/actions/builtin.h"
#include "weft/actions/retrieve.h"
#include "weft/files/files.h"
#include "weft/store/memory_store.h"

namespace weft::actions {
namespace {

namespace fs = std::filesystem;

class RetrieveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    knowledge::KnowledgeOptions o;
    o.database = ":memory:";
    knowledge::BaseConfig help;
    help.name = "help";
    help.folder = (fs::path(WEFT_SOURCE_DIR) / "examples" / "knowledge" / "help").string();
    knowledge::BaseConfig empty;
    empty.name = "empty";
    o.bases = {help, empty};
    knowledge_ = knowledge::Knowledge::Open(std::move(o)).value();
    ASSERT_TRUE(knowledge_->Sync("help").ok());
    ASSERT_TRUE(RegisterBuiltinActions(registry_).ok());
    uploads_ = fs::temp_directory_path() / ("weft_retrieve_uploads_" + std::to_string(::getpid()));
    fs::remove_all(uploads_);
    ASSERT_TRUE(RegisterRetrieveActions(registry_, knowledge_, uploads_.string()).ok());
    store_ = store::NewMemoryStore();
    engine::EngineOptions eo;
    eo.store = store_.get();
    eo.actions = &registry_;
    engine_ = std::move(engine::Engine::Create(std::move(eo))).value();
  }

  void TearDown() override { fs::remove_all(uploads_); }

  fs::path uploads_;
  std::shared_ptr<knowledge::Knowledge> knowledge_;
  engine::ActionRegistry registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
};

constexpr const char* kWorkflow = R"yaml(
workflow: { name: answer }
defs:
  find:
    kind: task
    action: retrieve
    inputs: { query: "=$input.q" }
    settings: { knowledge: help, top_k: 2 }
flow:
  - do: find
outputs:
  first: "=$output.find.chunks[0].document"
  context: "=$output.find.context"
  sources: "=$output.find.sources"
  count: "=$count($output.find.chunks)"
)yaml";

TEST_F(RetrieveTest, PassagesComeBackNumberedWithTheirSourcesAndStayInTheHistory) {
  Value input = Value::MakeObject();
  input.set("q", "How do I download my invoice?");
  store::RunRecord run = RunWorkflow(*engine_, registry_, kWorkflow, input);
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("first"), Value("billing/download-invoice.md"));
  EXPECT_EQ(run.outputs.get("count"), Value(2.0));
  const std::string context = run.outputs.get("context").as_string();
  EXPECT_EQ(context.rfind("[1] Download your invoices — Download your invoices > From the web app "
                          "(https://help.example.com/billing/download-invoice)\n1. Sign in",
                          0),
            0u)
      << context;
  ASSERT_EQ(run.outputs.get("sources").size(), 1u);  // both passages from one article: one source
  EXPECT_EQ(run.outputs.get("sources").as_array()[0].get("n"), Value(1.0));
  // The history keeps what was retrieved.
  auto steps = store_->GetSteps(run.id).value();
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.back().output.get("chunks").size(), 2u);
  EXPECT_EQ(steps.back().detail.get("knowledge"), Value("help"));
}

TEST_F(RetrieveTest, HexabotsNameWorksAndMistakesAreClear) {
  std::string hexabot = kWorkflow;
  hexabot.replace(hexabot.find("action: retrieve"), 16, "action: retrieve_content_rag");
  Value input = Value::MakeObject();
  input.set("q", "reset my password");
  store::RunRecord run = RunWorkflow(*engine_, registry_, hexabot, input);
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("first"), Value("account/reset-password.md"));

  // An unknown base is refused when the workflow loads.
  std::string unknown = kWorkflow;
  unknown.replace(unknown.find("knowledge: help"), 15, "knowledge: helpp");
  auto wf = dsl::LoadWorkflow(unknown, "wf.yaml", registry_);
  ASSERT_FALSE(wf.ok());
  EXPECT_NE(wf.status().message().find("unknown knowledge base 'helpp' (configured: empty, help)"), std::string::npos)
      << wf.status();
  // Several bases: the step must name one.
  std::string unnamed = kWorkflow;
  unnamed.replace(unnamed.find("knowledge: help, "), 17, "");
  EXPECT_FALSE(dsl::LoadWorkflow(unnamed, "wf.yaml", registry_).ok());

  // An empty query fails the step with the reason.
  input.set("q", "   ");
  run = RunWorkflow(*engine_, registry_, kWorkflow, input);
  EXPECT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_NE(run.error.find("the query is empty"), std::string::npos) << run.error;
}

}  // namespace
}  // namespace weft::actions

namespace weft::actions {
namespace {

// An uploaded file indexed by a step, then found by the next one.
TEST_F(RetrieveTest, AnUploadedFileIsIndexedAndFound) {
  Result<Value> upload =
      files::UploadStore(uploads_.string())
          .Put("price-list.pdf", testing::MakePdf({"Price list 2027", "The pro plan costs 49 euros"}));
  ASSERT_TRUE(upload.ok()) << upload.status();
  Value input = Value::MakeObject();
  input.set("doc", *upload);
  store::RunRecord run = RunWorkflow(*engine_, registry_, R"yaml(
workflow: { name: learn }
defs:
  index:
    kind: task
    action: index_document
    inputs: { file: "=$input.doc", tags: [pricing] }
    settings: { knowledge: help }
  find:
    kind: task
    action: retrieve
    inputs: { query: "how much is the pro plan" }
    settings: { knowledge: help, top_k: 1, filter: { tags: [pricing] } }
flow: [{ do: index }, { do: find }]
outputs:
  indexed: "=$output.index"
  found: "=$output.find.chunks[0].document"
)yaml",
                                     input);
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("indexed").get("id"), Value("price-list.pdf"));
  EXPECT_EQ(run.outputs.get("indexed").get("title"), Value("Price list 2027"));
  EXPECT_EQ(run.outputs.get("found"), Value("price-list.pdf"));
  // An id that was never uploaded fails the step with the reason.
  input.set("doc", Value(std::string(64, 'a')));
  run = RunWorkflow(*engine_, registry_, R"yaml(
workflow: { name: learn_missing }
defs:
  index: { kind: task, action: index_document, inputs: { file: "=$input.doc" }, settings: { knowledge: help } }
flow: [{ do: index }]
)yaml",
                    input);
  EXPECT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_NE(run.error.find("index_document"), std::string::npos) << run.error;
}

}  // namespace
}  // namespace weft::actions
