// eval-dataset: two models compared on the same labelled data through the
// OpenAI-compatible API of a fake provider on loopback.
#include "weft/suite/evaluation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fake_provider.h"
#include "weft/core/crypto.h"
#include "weft/core/json.h"

namespace weft::suite {
namespace {

namespace fs = std::filesystem;
using testing::FakeProvider;
using testing::ProviderCall;
using testing::ProviderReply;

constexpr const char* kWorkflow = R"yaml(
workflow: { name: triage }
inputs:
  schema:
    message: { type: string, required: true }
defs:
  classify_issue:
    kind: task
    action: classify
    inputs: { text: "=$input.message" }
    settings:
      output_schema:
        type: object
        required: [issue_type]
        properties:
          issue_type: { enum: [billing, bug, other] }
  tell_the_team:
    kind: task
    action: http
    inputs: { url: "http://127.0.0.1:9/never", method: POST }
permissions:
  network: { hosts: ["*"], private: true }
flow:
  - do: classify_issue
  - do: tell_the_team
outputs:
  issue_type: "=$output.classify_issue.issue_type"
)yaml";

TEST(EvaluateDataset, TwoModelsSideBySideOnTheSameData) {
  // "small" answers billing to everything; "big" gets it right but for one
  // answer that is not JSON (a failed example).
  FakeProvider fake([](const ProviderCall& c) {
    const std::string model = c.body.get("model").as_string();
    const std::string text = ToJson(c.body);  // the whole conversation: a repair turn keeps the question
    if (model == "small") return ProviderReply::Text(R"({"issue_type":"billing","confidence":0.9})");
    if (text.find("crash") != std::string::npos) return ProviderReply::Text(R"({"issue_type":"bug","confidence":0.9})");
    if (text.find("hours") != std::string::npos) return ProviderReply::Text("not json at all");
    return ProviderReply::Text(R"({"issue_type":"billing","confidence":0.9})");
  });
  const fs::path dir = fs::temp_directory_path() / ("weft_eval_" + std::to_string(::getpid()) + RandomHex(3));
  fs::create_directories(dir);
  std::ofstream(dir / "triage.yaml") << kWorkflow;
  std::ofstream(dir / "weft.yaml")
      << "models:\n"
      << "  fast: { provider: openai, model: small, base_url: \"" << fake.base_url()
      << "\", api_key_env: HOME, max_retries: 0, price: { input_per_1k: 1, output_per_1k: 2 } }\n"
      << "  smart: { provider: openai, model: big, base_url: \"" << fake.base_url()
      << "\", api_key_env: HOME, max_retries: 0 }\n";
  std::ofstream(dir / "data.jsonl") << R"({"text": "I was charged twice", "issue_type": "billing"})"
                                    << "\n"
                                    << R"({"text": "The app crashes on start", "issue_type": "bug"})"
                                    << "\n"
                                    << "\n"
                                    << R"({"text": "Your opening hours?", "issue_type": "other"})"
                                    << "\n";
  EvalOptions o;
  o.data_path = (dir / "data.jsonl").string();
  o.workflows = {(dir / "triage.yaml").string()};
  o.models = {"fast", "smart"};
  o.step = "classify_issue";
  o.input = R"({"message": text})";
  o.fields = {"issue_type"};
  o.config_path = (dir / "weft.yaml").string();
  Result<std::vector<VariantReport>> r = EvaluateDataset(o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  const VariantReport& fast = (*r)[0];
  const VariantReport& smart = (*r)[1];
  EXPECT_EQ(fast.name, "triage.yaml · fast");
  EXPECT_EQ(fast.examples, 3);
  EXPECT_EQ(fast.fields.at("issue_type").correct, 1);
  EXPECT_EQ(fast.fields.at("issue_type").confusion.at("bug").at("billing"), 1);
  EXPECT_EQ(fast.failed, 0);
  EXPECT_EQ(fast.input_tokens, 3 * 12);  // the fake reports 12 in, 7 out per call
  EXPECT_EQ(fast.output_tokens, 3 * 7);
  EXPECT_NEAR(fast.cost, 3 * (12 * 0.001 + 7 * 0.002), 1e-9);
  EXPECT_EQ(smart.fields.at("issue_type").correct, 2);
  EXPECT_EQ(smart.failed, 1);  // an answer that is not JSON, even after the repair turn
  EXPECT_EQ(smart.fields.at("issue_type").confusion.at("other").at("(failed)"), 1);
  ASSERT_FALSE(smart.errors.empty());
  // Only the AI step ran: the HTTP step after it never did (it would have
  // failed every example), and each example cost the model calls only.
  for (const ProviderCall& c : fake.calls()) EXPECT_EQ(c.api, "openai");
  const std::string report = EvalReport(*r);
  EXPECT_NE(report.find("| issue_type accuracy | 33.3% (1/3) | 66.7% (2/3) |"), std::string::npos) << report;
  EXPECT_NE(report.find("issue_type — triage.yaml · smart"), std::string::npos) << report;
  EXPECT_EQ(EvalReportJson(*r).as_array()[1].get("fields").get("issue_type").get("correct"), Value(2));

  // Mistakes are named.
  o.step = "tell_the_team";
  EXPECT_NE(EvaluateDataset(o).status().message().find("'tell_the_team' is not an AI step"), std::string::npos);
  o.step = "classify_issue";
  o.input = "{";
  EXPECT_EQ(EvaluateDataset(o).status().code(), StatusCode::kInvalidArgument);
  o.input = "";
  o.fields.clear();
  EXPECT_NE(EvaluateDataset(o).status().message().find("data.jsonl:1: no `expected` object"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace weft::suite
