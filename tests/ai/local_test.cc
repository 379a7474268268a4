// The local model: classifier, cascade, pattern extraction, template replies.
#include <gtest/gtest.h>

#include "fake_provider.h"
#include "triage_data.h"
#include "weft/actions/builtin.h"
#include "weft/ai/actions.h"
#include "weft/ai/local_classifier.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace weft::ai {
namespace {

using testing::FakeProvider;
using testing::ProviderCall;
using testing::ProviderReply;

using testing::TriageExamples;
using testing::TriageTestSet;

TEST(LocalClassifier, LearnsTheExamplesAndGeneralizes) {
  auto train = TriageExamples("issue_type");
  ASSERT_GE(train.size(), 300u);
  auto c = LocalClassifier::Train(train);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->labels(), (std::vector<std::string>{"account_access", "billing", "bug", "other"}));
  EXPECT_TRUE(c->calibrated());
  int right = 0;
  for (const auto& e : train) right += c->Predict(e.text).label == e.label ? 1 : 0;
  EXPECT_GE(right, static_cast<int>(train.size() * 95 / 100)) << "it should fit its own examples";
  auto test = TriageTestSet("issue_type");
  ASSERT_GE(test.size(), 120u);
  right = 0;
  for (const auto& e : test) right += c->Predict(e.text).label == e.label ? 1 : 0;
  EXPECT_GE(right * 100, static_cast<int>(test.size()) * 85)
      << "accuracy on unseen messages (bench/RESULTS.md records the figure)";
}

// Its confidence can be believed: on the separate test set (messages it
// never learned from, in six languages), the answers it is at least 85 %
// sure of are at least 95 % right, for each field and for the triage step
// (both fields: the product of their confidences), and urgency — the hard
// field — is right at least 75 % of the time. bench/classifier_eval prints
// the full reliability tables, by cross-validation too.
TEST(LocalClassifier, ConfidenceIsHonestOnUnseenMessages) {
  auto issue = *LocalClassifier::Train(TriageExamples("issue_type"));
  auto urgency = *LocalClassifier::Train(TriageExamples("urgency"));
  auto issue_test = TriageTestSet("issue_type");
  auto urgency_test = TriageTestSet("urgency");
  ASSERT_EQ(issue_test.size(), urgency_test.size());
  struct Tally {
    int kept = 0, kept_right = 0, right = 0;
  } i_tally, u_tally, step;
  for (size_t i = 0; i < issue_test.size(); ++i) {
    const Prediction a = issue.Predict(issue_test[i].text);
    const Prediction b = urgency.Predict(urgency_test[i].text);
    const bool a_right = a.label == issue_test[i].label, b_right = b.label == urgency_test[i].label;
    auto count = [](Tally& t, double confidence, bool right) {
      t.right += right;
      if (confidence >= 0.85) {
        ++t.kept;
        t.kept_right += right;
      }
    };
    count(i_tally, a.confidence, a_right);
    count(u_tally, b.confidence, b_right);
    count(step, a.confidence * b.confidence, a_right && b_right);
  }
  for (const auto& [what, t] : {std::pair{"issue_type", i_tally}, {"urgency", u_tally}, {"the step", step}}) {
    ASSERT_GT(t.kept, 10) << what << ": it should be sure of some answers";
    EXPECT_GE(t.kept_right * 100, t.kept * 95) << what << ": " << t.kept_right << " of " << t.kept << " right";
  }
  EXPECT_GE(u_tally.right * 100, static_cast<int>(urgency_test.size()) * 75) << u_tally.right << " right";
}

TEST(LocalClassifier, CuesCarryAcrossLanguages) {
  // Urgency cues learned mostly from English reach other languages: an
  // outage that stops customers from paying is urgent in German too.
  auto urgency = *LocalClassifier::Train(TriageExamples("urgency"));
  EXPECT_EQ(urgency.Predict("Ihre Seite ist ausgefallen und die Kunden können nicht mehr bezahlen").label, "high");
  EXPECT_EQ(urgency.Predict("Kleine Frage, kein Eile: gibt es einen Dunkelmodus?").label, "low");
  // Negation: "not urgent" is not urgent.
  EXPECT_EQ(urgency.Predict("Not urgent at all, just wondering about the roadmap").label, "low");
}

TEST(LocalClassifier, IsDeterministicAndHonestAboutConfidence) {
  auto train = TriageExamples("issue_type");
  auto a = *LocalClassifier::Train(train);
  auto b = *LocalClassifier::Train(train);
  for (const char* text : {"charged twice", "cannot log in", "zebra quantum"}) {
    EXPECT_EQ(a.Predict(text).label, b.Predict(text).label);
    EXPECT_DOUBLE_EQ(a.Predict(text).confidence, b.Predict(text).confidence);
  }
  const Prediction sure = a.Predict("I was charged twice on my card, please refund");
  const Prediction unsure = a.Predict("zebra quantum marmalade");
  EXPECT_EQ(sure.label, "billing");
  EXPECT_GT(sure.confidence, 0.6);
  EXPECT_LT(unsure.confidence, sure.confidence);
  EXPECT_GE(unsure.confidence, 0.0);
  EXPECT_LE(sure.confidence, 1.0);
}

TEST(LocalClassifier, RefusesWhatItCannotLearn) {
  EXPECT_EQ(LocalClassifier::Train({{"a", "x"}, {"b", "x"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalClassifier::Train({{"a", "x"}, {"!!!", "y"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalClassifier::Train({{"a", "x"}, {"b", ""}}).status().code(), StatusCode::kInvalidArgument);
  // Word pieces: an inflected word shares features with its stem.
  auto f1 = LocalClassifier::Features("charged");
  auto f2 = LocalClassifier::Features("charge");
  std::vector<uint64_t> common;
  std::set_intersection(f1.begin(), f1.end(), f2.begin(), f2.end(), std::back_inserter(common));
  EXPECT_GE(common.size(), 4u);
}

class LocalStepsTest : public ::testing::Test {
 protected:
  void Start(const std::string& models_json, FakeProvider* fake = nullptr) {
    http_ = http::NewCurlClient();
    Env env = [fake](std::string_view name) -> std::optional<std::string> {
      if (name == "OPENAI_BASE_URL" && fake != nullptr) return fake->base_url();
      return std::nullopt;
    };
    auto m = Models::FromConfig(*ParseJson(models_json), http_.get(), env);
    ASSERT_TRUE(m.ok()) << m.status();
    store_ = store::NewMemoryStore();
    ASSERT_TRUE(actions::RegisterBuiltinActions(registry_, store_.get()).ok());
    ASSERT_TRUE(RegisterAiActions(registry_, {.models = *m, .store = store_.get()}).ok());
    engine::EngineOptions o;
    o.store = store_.get();
    o.actions = &registry_;
    engine_ = std::move(engine::Engine::Create(std::move(o))).value();
  }
  // Runs `yaml` (workflow name `t`) to its end; returns the first step.
  store::StepRecord RunFirstStep(const std::string& yaml, const std::string& text) {
    auto wf = dsl::LoadWorkflow(yaml, "t.yaml", registry_);
    EXPECT_TRUE(wf.ok()) << wf.status();
    int64_t v = *engine_->Deploy(*wf);
    Value input = Value::MakeObject();
    input.set("text", text);
    auto id = *engine_->Start("t", v, input);
    auto run = *engine_->Wait(id);
    auto steps = *store_->GetSteps(id);
    EXPECT_FALSE(steps.empty()) << run.error;
    return steps.empty() ? store::StepRecord{} : steps[0];
  }

  std::unique_ptr<http::Client> http_;
  engine::ActionRegistry registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
};

constexpr const char* kLabels = R"(
workflow: { name: t }
defs:
  sort:
    kind: task
    action: classify
    inputs: { text: "=$input.text" }
    settings:
      model: MODEL
      CASCADE
      labels: [billing, access]
      examples:
        - { text: "charged twice on my card", label: billing }
        - { text: "refund my payment please", label: billing }
        - { text: "the invoice total is wrong", label: billing }
        - { text: "cannot log in to my account", label: access }
        - { text: "password reset does not work", label: access }
        - { text: "my account is locked", label: access }
flow: [{ do: sort }]
)";

std::string Workflow(const std::string& model, const std::string& cascade) {
  std::string y = kLabels;
  y.replace(y.find("MODEL"), 5, model);
  y.replace(y.find("CASCADE"), 7, cascade);
  return y;
}

TEST_F(LocalStepsTest, ClassifiesLocallyWithLabels) {
  Start("{}");
  auto step = RunFirstStep(Workflow("local", ""), "I was charged twice");
  ASSERT_EQ(step.status, store::StepStatus::kCompleted) << step.error;
  EXPECT_EQ(step.output.get("label"), Value("billing"));
  EXPECT_GT(step.output.get("confidence").as_number(), 0.5);
  EXPECT_EQ(step.detail.get("provider"), Value("local"));
  EXPECT_EQ(step.detail.get("cost"), Value(0));
  EXPECT_TRUE(step.detail.get("local").get("fields").get("label").is_object());
}

TEST_F(LocalStepsTest, CascadeAnswersLocallyWhenSureAndAsksTheModelOtherwise) {
  FakeProvider fake([](const ProviderCall&) { return ProviderReply::Text(R"({"label":"access","confidence":0.99})"); });
  Start(R"({"fast":{"provider":"openai","model":"m"}})", &fake);
  const std::string yaml = Workflow("fast", "cascade: { local_min_confidence: 0.6 }");
  auto sure = RunFirstStep(yaml, "charged twice on my card, refund my payment");
  ASSERT_EQ(sure.status, store::StepStatus::kCompleted) << sure.error;
  EXPECT_EQ(sure.detail.get("cascade").get("decision"), Value("local"));
  EXPECT_EQ(sure.detail.get("answered_by"), Value("local"));
  EXPECT_EQ(sure.output.get("label"), Value("billing"));
  EXPECT_EQ(fake.call_count(), 0);

  auto unsure = RunFirstStep(yaml, "zebra quantum marmalade");
  ASSERT_EQ(unsure.status, store::StepStatus::kCompleted) << unsure.error;
  EXPECT_EQ(unsure.detail.get("cascade").get("decision"), Value("model"));
  EXPECT_EQ(unsure.output.get("label"), Value("access"));
  EXPECT_EQ(fake.call_count(), 1);
}

TEST_F(LocalStepsTest, ExtractsByPatterns) {
  Start("{}");
  constexpr const char* kExtract = R"(
workflow: { name: t }
defs:
  fields:
    kind: task
    action: extract
    inputs: { text: "=$input.text" }
    settings:
      method: patterns
      output_schema:
        type: object
        required: [email, order_id, phone]
        properties:
          email: { type: string }
          phone: { type: string }
          order_id: { type: string }
          amount: { type: number }
          website: { type: string }
          since: { type: string, format: date }
          plan: { type: string }
flow: [{ do: fields }]
)";
  auto step = RunFirstStep(kExtract,
                           "Hi, I'm ana.silva@example.com, order #48213 was charged $1,249.50 on 2026-11-02. "
                           "See https://shop.example.com/orders/48213.");
  ASSERT_EQ(step.status, store::StepStatus::kCompleted) << step.error;
  const Value& out = step.output;
  EXPECT_EQ(out.get("email"), Value("ana.silva@example.com"));
  EXPECT_EQ(out.get("order_id"), Value("#48213"));
  EXPECT_EQ(out.get("amount"), Value(1249.5));
  EXPECT_EQ(out.get("since"), Value("2026-11-02"));
  EXPECT_EQ(out.get("website"), Value("https://shop.example.com/orders/48213"));
  EXPECT_FALSE(out.find("plan")) << "no pattern for it: not found, not invented";
  EXPECT_EQ(out.get("missing_fields"), *ParseJson(R"(["phone"])"));

  auto phone = RunFirstStep(kExtract, "call me at +1 415-555-0132 about order AB-2291");
  EXPECT_EQ(phone.output.get("phone"), Value("+1 415-555-0132"));
  EXPECT_EQ(phone.output.get("order_id"), Value("AB-2291"));
  EXPECT_EQ(phone.output.get("missing_fields"), *ParseJson(R"(["email"])"));
}

TEST_F(LocalStepsTest, TemplateRepliesWithoutAModel) {
  Start("{}");
  constexpr const char* kReply = R"(
workflow: { name: t }
defs:
  reply:
    kind: task
    action: generate_text
    inputs: { text: "=$input.text" }
    settings: { template: "='We got your message: ' & $input.text" }
flow: [{ do: reply }]
)";
  auto step = RunFirstStep(kReply, "hello");
  ASSERT_EQ(step.status, store::StepStatus::kCompleted) << step.error;
  EXPECT_EQ(step.output.get("text"), Value("We got your message: hello"));
}

// What the local model cannot do is refused when the workflow is loaded:
// summarize (no local model), generate_text without a template, classify
// without examples; a model alias that is not configured at all is a
// warning (the workflow may be validated away from its deployment).
TEST_F(LocalStepsTest, StepsTheLocalModelCannotRunAreRefusedAtLoad) {
  Start("{}");
  struct Case {
    const char* action;
    const char* settings;
    const char* error;  // nullptr: loads
  };
  const Case cases[] = {
      {"summarize", "{}", "task 's': summarize needs a model (no model is configured)"},
      {"generate_object", "{ output_schema: { type: object } }", "generate_object needs a model"},
      {"decide", "{}", "decide needs a model"},
      {"generate_text", "{}", "generate_text without a model (no model is configured) needs settings.template"},
      {"classify", "{}", "classify runs on the local model here (no model is configured), which learns from"},
      {"classify", "{ examples: [{ text: a, label: x }, { text: b, label: y }] }", nullptr},
      {"extract", "{ output_schema: { type: object, properties: { email: { type: string } } } }", nullptr},
      {"summarize", "{ model: \"=$input.model\" }", nullptr},  // decided when it runs
  };
  for (const Case& c : cases) {
    const std::string yaml = std::string("workflow: { name: t }\ndefs:\n  s: { kind: task, action: ") + c.action +
                             ", inputs: { text: x }, settings: " + c.settings + " }\nflow: [{ do: s }]\n";
    auto wf = dsl::LoadWorkflow(yaml, "t.yaml", registry_);
    if (c.error == nullptr) {
      EXPECT_TRUE(wf.ok()) << yaml << wf.status();
    } else {
      ASSERT_FALSE(wf.ok()) << yaml;
      EXPECT_NE(wf.status().message().find(c.error), std::string::npos) << wf.status();
    }
  }
  dsl::Diagnostics diag;
  auto warned = dsl::LoadWorkflow(
      "workflow: { name: t }\ndefs:\n  s: { kind: task, action: summarize, inputs: { text: x }, settings: { model: "
      "smart } }\nflow: [{ do: s }]\n",
      "t.yaml", registry_, &diag);
  ASSERT_TRUE(warned.ok()) << warned.status();
  std::vector<dsl::Diagnostic> warnings;
  for (const dsl::Diagnostic& d : diag.all()) {
    if (d.severity == dsl::Diagnostic::Severity::kWarning) warnings.push_back(d);
  }
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].message.find("model 'smart' is not configured here"), std::string::npos);
}

}  // namespace
}  // namespace weft::ai

namespace weft::ai {
namespace {

// The example workflow's classify step learns from exactly the training set
// that bench/classifier_eval measures.
TEST(LocalClassifier, TheExampleWorkflowListsTheTrainingSet) {
  auto doc = dsl::LoadYamlFile(std::string(WEFT_SOURCE_DIR) + "/examples/support-triage.yaml");
  ASSERT_TRUE(doc.ok()) << doc.status();
  const Value examples = doc->get("defs").get("classify_issue").get("settings").get("examples");
  const std::vector<testing::TriageMessage> train = testing::TriageTrainingSet();
  ASSERT_EQ(examples.size(), train.size());
  for (size_t i = 0; i < train.size(); ++i) {
    const Value& e = examples.as_array()[i];
    EXPECT_EQ(e.get("text"), Value(train[i].text)) << i;
    EXPECT_EQ(e.get("issue_type"), Value(train[i].issue_type)) << i;
    EXPECT_EQ(e.get("urgency"), Value(train[i].urgency)) << i;
  }
}

}  // namespace
}  // namespace weft::ai
