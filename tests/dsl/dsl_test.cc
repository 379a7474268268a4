// Loader tests. Every file in invalid/ must fail to load; its comment lines
// name the diagnostics it must produce:
//   # expect: LINE:COL: message substring      (an error)
//   # warning: LINE:COL: message substring     (a warning)
//   # not-hexabot: LINE:COL: message substring (a form Hexabot v3 refuses)
// Every file in valid/ must load without errors. Files named hexabot_* are in
// Hexabot's syntax: every portability note they get must be listed. Adding a
// case needs no C++.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "weft/actions/builtin.h"
#include "weft/actions/email.h"
#include "weft/actions/http.h"
#include "weft/actions/retrieve.h"
#include "weft/actions/script.h"
#include "weft/actions/sql.h"
#include "weft/ai/actions.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/dsl/schema.h"
#include "weft/engine/action.h"

namespace weft::dsl {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> Files(const char* dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(WEFT_DSL_TEST_DIR) / dir)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Knowledge bases by name only: what validating a `retrieve` step needs.
class NamedBases final : public knowledge::Knowledge {
 public:
  std::vector<std::string> bases() const override { return {"help_center"}; }
  std::optional<knowledge::BaseConfig> base(std::string_view name) override {
    if (name != "help_center") return std::nullopt;
    return knowledge::BaseConfig{.name = "help_center"};
  }
  bool Configured(std::string_view) const override { return true; }
  Status CreateBase(knowledge::BaseConfig) override { return UnimplementedError("validation only"); }
  Status DeleteBase(std::string_view) override { return UnimplementedError("validation only"); }
  Result<knowledge::SyncReport> Sync(std::string_view) override { return UnimplementedError("validation only"); }
  Result<knowledge::DocumentInfo> Put(std::string_view, knowledge::Document) override {
    return UnimplementedError("validation only");
  }
  Status Remove(std::string_view, std::string_view) override { return UnimplementedError("validation only"); }
  Result<std::vector<knowledge::DocumentInfo>> Documents(std::string_view) override {
    return UnimplementedError("validation only");
  }
  Result<std::vector<knowledge::Hit>> Search(const knowledge::Query&) override {
    return UnimplementedError("validation only");
  }
};

const engine::ActionRegistry& Actions() {
  static engine::ActionRegistry* registry = [] {
    auto* r = new engine::ActionRegistry();
    (void)actions::RegisterBuiltinActions(*r);
    static std::unique_ptr<http::Client> client = http::NewCurlClient();
    (void)actions::RegisterHttpActions(*r, {.client = client.get()});
    (void)actions::RegisterScriptAction(*r);
    (void)actions::RegisterSqlAction(*r, {});
    (void)actions::RegisterEmailAction(*r, {});
    // The AI steps, with only the local model (no network).
    (void)ai::RegisterAiActions(*r, {.models = *ai::Models::FromConfig(Value(), nullptr, ai::ProcessEnv())});
    (void)actions::RegisterRetrieveActions(*r, std::make_shared<NamedBases>());
    return r;
  }();
  return *registry;
}

std::string Name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = fs::path(info.param).stem().string();
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

// Checks the diagnostics a file's comment lines name; returns how many it
// names, and how many of them are portability notes.
struct Expected {
  int all = 0;
  int portability = 0;
};

Expected CheckExpectations(const std::string& file, const std::string& text, const Diagnostics& diag) {
  std::istringstream lines(text);
  std::string line;
  Expected n;
  const std::pair<const char*, const char*> kinds[] = {
      {"# expect: ", "error: "}, {"# warning: ", "warning: "}, {"# not-hexabot: ", "not Hexabot v3: "}};
  while (std::getline(lines, line)) {
    for (const auto& [marker, severity] : kinds) {
      const std::string m = marker;
      if (line.rfind(m, 0) != 0) continue;
      ++n.all;
      if (m == "# not-hexabot: ") ++n.portability;
      std::string want = line.substr(m.size());
      std::string prefix = file + ":" + want.substr(0, want.find(": ") + 2) + severity;
      std::string message = want.substr(want.find(": ") + 2);
      bool found = false;
      for (const Diagnostic& d : diag.all()) {
        std::string s = d.ToString();
        if (s.rfind(prefix, 0) == 0 && s.find(message) != std::string::npos) found = true;
      }
      EXPECT_TRUE(found) << "missing: " << prefix << message;
    }
  }
  return n;
}

class InvalidWorkflow : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidWorkflow, ReportsEveryProblem) {
  const fs::path path = fs::path(WEFT_DSL_TEST_DIR) / "invalid" / GetParam();
  const std::string text = ReadFile(path);
  Diagnostics diag;
  auto wf = LoadWorkflow(text, GetParam(), Actions(), &diag);
  EXPECT_FALSE(wf.ok());
  std::string all;
  for (const Diagnostic& d : diag.all()) all += "  " + d.ToString() + "\n";
  SCOPED_TRACE("diagnostics:\n" + all);
  EXPECT_GT(CheckExpectations(GetParam(), text, diag).all, 0) << "the file names no expected diagnostic";
  // The Status lists every error, one per line.
  if (!wf.ok()) {
    const std::string message = wf.status().message();
    EXPECT_EQ(static_cast<int>(std::count(message.begin(), message.end(), '\n')) + 1, diag.error_count());
  }
}

INSTANTIATE_TEST_SUITE_P(Files, InvalidWorkflow, ::testing::ValuesIn(Files("invalid")), Name);

class ValidWorkflow : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidWorkflow, Loads) {
  const fs::path path = fs::path(WEFT_DSL_TEST_DIR) / "valid" / GetParam();
  const std::string text = ReadFile(path);
  Diagnostics diag;
  auto wf = LoadWorkflow(text, GetParam(), Actions(), &diag);
  ASSERT_TRUE(wf.ok()) << wf.status();
  EXPECT_FALSE((*wf)->flow.empty());
  std::string all;
  for (const Diagnostic& d : diag.all()) all += "  " + d.ToString() + "\n";
  SCOPED_TRACE("diagnostics:\n" + all);
  const Expected named = CheckExpectations(GetParam(), text, diag);
  if (GetParam().rfind("hexabot_", 0) == 0) {
    const auto notes = std::count_if(diag.all().begin(), diag.all().end(), [](const Diagnostic& d) {
      return d.severity == Diagnostic::Severity::kPortability;
    });
    EXPECT_EQ(notes, named.portability) << "a file in Hexabot's syntax got portability notes it does not list";
  }
}

INSTANTIATE_TEST_SUITE_P(Files, ValidWorkflow, ::testing::ValuesIn(Files("valid")), Name);

// Every example workflow; catalogs (imported by workflows, loaded with
// them) and the extension's workflow (it needs the native action that
// examples/extension registers, and its test runs it) are not workflows
// on their own.
TEST(Loader, ExamplesLoad) {
  for (const auto& e : fs::recursive_directory_iterator(fs::path(WEFT_SOURCE_DIR) / "examples")) {
    // weft.yaml is configuration; *.test.yaml and tests/ hold `weft test` cases.
    if (e.path().extension() != ".yaml" || e.path().filename() == "weft.yaml") continue;
    if (e.path().filename().string().ends_with(".test.yaml")) continue;
    const std::string folder = e.path().parent_path().filename().string();
    if (folder == "catalog" || folder == "extension" || folder == "tests") continue;
    Diagnostics diag;
    auto wf = LoadWorkflowFile(e.path().string(), Actions(), &diag);
    EXPECT_TRUE(wf.ok()) << e.path() << ": " << wf.status();
    for (const Diagnostic& d : diag.all()) {
      if (d.severity != Diagnostic::Severity::kPortability)
        ADD_FAILURE() << "examples must load cleanly: " << d.ToString();
    }
  }
}

TEST(Loader, StepPathsAreStable) {
  const char* text = R"(
defs:
  t: { kind: task, action: set }
flow:
  - parallel:
      steps:
        - do: t
        - do: t
  - conditional:
      when:
        - condition: "true"
          steps: [{ do: t }]
  - loop:
      name: collector
      for_each: { in: "=[1]" }
      steps: [{ do: t }]
)";
  auto wf = LoadWorkflow(text, "paths.yaml", Actions());
  ASSERT_TRUE(wf.ok()) << wf.status();
  const auto& flow = (*wf)->flow;
  EXPECT_EQ(flow[0].children[1].path, "0.parallel.1");
  EXPECT_EQ(flow[1].branches[0].steps[0].path, "1.branch.0.0");
  EXPECT_EQ(flow[2].children[0].path, "2.collector.0");
}

TEST(Loader, DefaultNameComesFromTheFile) {
  auto wf = LoadWorkflowFile((fs::path(WEFT_DSL_TEST_DIR) / "valid" / "hexabot_style.yaml").string(), Actions());
  ASSERT_TRUE(wf.ok()) << wf.status();
  EXPECT_EQ((*wf)->name, "hexabot_style");
  EXPECT_EQ((*wf)->version, 0);
}

TEST(Loader, HugeAliasExpansionIsRefused) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'h'; ++c) {
    text += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
    prev = c;
  }
  text += "defs: {}\nflow: []\ncontext: *h\n";
  Diagnostics diag;
  auto wf = LoadWorkflow(text, "bomb.yaml", Actions(), &diag);
  EXPECT_FALSE(wf.ok());
}

TEST(Schema, NamesTheFieldAndTheRule) {
  auto doc = ParseJson(R"({"type":"object","required":["urgency"],
    "properties":{"urgency":{"enum":["low","high"]},"items":{"type":"array","items":{"type":"number"}}}})");
  auto schema = Schema::Compile(*doc);
  ASSERT_TRUE(schema.ok()) << schema.status();
  EXPECT_TRUE(schema->Validate(*ParseJson(R"({"urgency":"low"})")).ok());
  Status s = schema->Validate(*ParseJson(R"({"urgency":"urgent"})"), "output");
  EXPECT_NE(s.message().find("output field 'urgency'"), std::string::npos) << s;
  EXPECT_NE(s.message().find("(found string \"urgent\")"), std::string::npos) << s;
  s = schema->Validate(*ParseJson(R"({"urgency":"low","items":[1,"x"]})"), "input");
  EXPECT_NE(s.message().find("items[1]"), std::string::npos) << s;
  s = schema->Validate(*ParseJson(R"({})"), "input");
  EXPECT_NE(s.message().find("urgency"), std::string::npos) << s;
  EXPECT_FALSE(Schema::Compile(*ParseJson(R"({"type": 5})")).ok());
}

// Schemas of a few keywords accept valid instances without valijson; what
// they decide must be valijson's. Each case is validated twice: as written
// (the direct check) and with a constraint that changes nothing but that
// the direct check does not know ("minProperties": 0), so valijson decides.
TEST(Schema, ChecksSimpleSchemasAsValijsonDoes) {
  struct Case {
    const char* schema;
    const char* instance;
    bool valid;
  };
  const Case cases[] = {
      {R"({"type":"object","properties":{"message":{"type":"string"},"urgency":{"type":"string",
          "enum":["low","medium","high"]}},"required":["message","urgency"]})",
       R"({"message":"down","urgency":"high"})", true},
      {R"({"type":"object","properties":{"urgency":{"enum":["low","high"]}},"required":["urgency"]})",
       R"({"urgency":"urgent"})", false},
      {R"({"type":"object","properties":{"urgency":{"enum":["low","high"]}}})", R"({"urgency":1})", false},
      {R"({"type":"object","required":["message"]})", R"({"other":1})", false},
      {R"({"type":"object","required":["message"]})", R"({"message":null})", true},
      {R"({"required":["message"]})", R"("not an object")", true},
      {R"({"type":"object","properties":{"n":{"type":"number"}}})", R"({"n":1})", true},
      {R"({"type":"object","properties":{"n":{"type":"number"}}})", R"({"n":1.5})", true},
      {R"({"type":"object","properties":{"n":{"type":"number"}}})", R"({"n":"1"})", false},
      {R"({"type":"object","properties":{"b":{"type":"boolean"},"z":{"type":"null"}}})", R"({"b":false,"z":null})",
       true},
      {R"({"type":"object","properties":{"b":{"type":"boolean"}}})", R"({"b":0})", false},
      {R"({"type":["string","null"]})", R"(null)", true},
      {R"({"type":["string","null"]})", R"(3)", false},
      {R"({"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false})", R"({"a":"x"})", true},
      {R"({"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false})", R"({"a":"x","b":1})",
       false},
      {R"({"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":true})", R"({"b":1})", true},
      {R"({"type":"array","items":{"type":"string","enum":["a","b"]}})", R"(["a","b","a"])", true},
      {R"({"type":"array","items":{"type":"string","enum":["a","b"]}})", R"(["a","c"])", false},
      {R"({"type":"object","properties":{"tags":{"type":"array","items":{"type":"object","properties":
          {"k":{"type":"string"}},"required":["k"]}}}})",
       R"({"tags":[{"k":"x"},{"v":1}]})", false},
      {R"({"type":"object","properties":{"tags":{"type":"array","items":{"type":"object","properties":
          {"k":{"type":"string"}},"required":["k"]}}}})",
       R"({"tags":[{"k":"x"},{"k":"y","v":1}]})", true},
      {R"({"type":"object","title":"T","description":"D","properties":{"a":{"type":"string","description":"x",
          "default":"y","examples":["z"]}}})",
       R"({"a":"x"})", true},
      {R"({"type":"string"})", R"(7)", false},
      // Not simple: valijson alone decides (the direct check must not get in
      // the way).
      {R"({"type":"object","properties":{"n":{"type":"integer"}}})", R"({"n":1.5})", false},
      {R"({"type":"object","properties":{"n":{"type":"integer"}}})", R"({"n":2})", true},
      {R"({"type":"object","properties":{"s":{"type":"string","minLength":2}}})", R"({"s":"a"})", false},
      {R"({"type":"object","properties":{"n":{"enum":[1,2]}}})", R"({"n":2})", true},
      {R"({"type":"object","properties":{"n":{"enum":[1,2]}}})", R"({"n":3})", false},
  };
  for (const Case& c : cases) {
    const Value doc = *ParseJson(c.schema);
    Value forced = *ParseJson(c.schema);  // a copy would share doc's members
    forced.set("minProperties", 0.0);
    for (const Value& d : {doc, forced}) {
      Result<Schema> schema = Schema::Compile(d);
      ASSERT_TRUE(schema.ok()) << c.schema << ": " << schema.status();
      Result<Value> instance = ParseJson(c.instance);
      ASSERT_TRUE(instance.ok()) << c.instance;
      EXPECT_EQ(schema->Validate(*instance).ok(), c.valid) << ToJson(d) << " on " << c.instance;
    }
  }
  // Text that is not UTF-8 is refused either way.
  Result<Schema> text = Schema::Compile(*ParseJson(R"({"type":"object","properties":{"a":{"type":"string"}}})"));
  ASSERT_TRUE(text.ok());
  Value bad = Value::MakeObject();
  bad.set("a", std::string("\xff\xfe"));
  EXPECT_FALSE(text->Validate(bad).ok());
}

// Bindings reach the action in Hexabot's mounted shape: one name mounts the
// def, a list mounts {name: def}; a bound def brings its own bindings.
TEST(Loader, MountsBindingsAsHexabotDoes) {
  Diagnostics diag;
  auto wf = LoadWorkflowFile((fs::path(WEFT_DSL_TEST_DIR) / "valid" / "hexabot_forms.yaml").string(), Actions(), &diag);
  ASSERT_TRUE(wf.ok()) << wf.status();
  const Value expected = *ParseJson(R"({
    "tools": {
      "score_tool": {"settings": {"multiplier": 2}, "action": "set"},
      "lookup_tool": {"settings": {},
                      "bindings": {"model": {"settings": {"provider": "openai", "model": "gpt-4o-mini"}}}}},
    "model": {"settings": {"provider": "openai", "model": "gpt-4o-mini"}}})");
  EXPECT_EQ(ToJson((*wf)->FindTask("agent_step")->bindings), ToJson(expected));
}

// Defs binding defs: a chain longer than the limit is refused (it took the
// stack with it), and a def bound from many places is mounted once (sixty
// levels of two-way diamonds took 2^60 mounts).
TEST(Loader, BindingChainsAreBoundedAndSharedDefsMountedOnce) {
  std::string chain = "defs:\n";
  for (int i = 0; i < 5000; ++i) {
    chain += "  d" + std::to_string(i) + ": { kind: tools, settings: {}, bindings: { tools: d" + std::to_string(i + 1) +
             " } }\n";
  }
  chain += "  d5000: { kind: tools, settings: {} }\n  t: { kind: task, action: set, bindings: { tools: d0 } }\n";
  chain += "flow: [{ do: t }]\noutputs: {}\n";
  auto deep = LoadWorkflow(chain, "chain.yaml", Actions());
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("defs bind each other more than 64 deep"), std::string::npos) << deep.status();

  std::string diamond = "defs:\n";
  for (int i = 0; i < 60; ++i) {
    const std::string next = std::to_string(i + 1);
    for (const char* side : {"a", "b"}) {
      diamond += std::string("  ") + side + std::to_string(i) + ": { kind: tools, settings: {}, bindings: { tools: [a" +
                 next + ", b" + next + "] } }\n";
    }
  }
  diamond += "  a60: { kind: tools, settings: {} }\n  b60: { kind: tools, settings: {} }\n";
  diamond += "  t: { kind: task, action: set, bindings: { tools: [a0, b0] } }\nflow: [{ do: t }]\noutputs: {}\n";
  auto shared = LoadWorkflow(diamond, "diamond.yaml", Actions());
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_TRUE((*shared)->FindTask("t")->bindings.get("tools").get("a0").get("bindings").is_object());
}

// Hexabot's abstract-action timing tests: the delay grows by the multiplier
// and stops at max_delay_ms (0 = no cap); jitter scales it by 1 ± jitter.
TEST(RetryPolicy, DelaysAsHexabotDoes) {
  RetryPolicy capped;
  capped.backoff_ms = 10;
  capped.max_delay_ms = 15;
  capped.multiplier = 2;
  EXPECT_EQ(capped.DelayMillis(1, 0.5), 10);
  EXPECT_EQ(capped.DelayMillis(2, 0.5), 15);
  capped.max_delay_ms = 0;
  EXPECT_EQ(capped.DelayMillis(3, 0.5), 40);
  RetryPolicy jittered;
  jittered.backoff_ms = 100;
  jittered.max_delay_ms = 0;
  jittered.jitter = 0.5;
  EXPECT_EQ(jittered.DelayMillis(1, 1.0), 150);  // Math.random() = 1 in Hexabot's test
  EXPECT_EQ(jittered.DelayMillis(1, 0.0), 50);
  EXPECT_EQ(jittered.DelayMillis(1, 0.5), 100);
}

TEST(RetryPolicy, RetriesAnyFailureButAFinalOneUnlessTold) {
  RetryPolicy r;
  EXPECT_FALSE(r.Retries(UnavailableError("x")));  // no retries block
  r.enabled = true;
  EXPECT_TRUE(r.Retries(InvalidArgumentError("x")));
  EXPECT_TRUE(r.Retries(InternalError("x")));
  EXPECT_FALSE(r.Retries(FailedPreconditionError("budget spent")));
  r.retry_on = {StatusCode::kUnavailable, StatusCode::kFailedPrecondition};
  EXPECT_TRUE(r.Retries(FailedPreconditionError("budget spent")));
  EXPECT_FALSE(r.Retries(InvalidArgumentError("x")));
}

// The defaults' `enabled: false` holds for a task whose own block leaves
// `enabled` out; a block alone turns retries on.
TEST(RetryPolicy, BlocksMergeFieldByField) {
  auto wf = LoadWorkflow(R"(
defaults:
  settings:
    retries: { enabled: false, max_attempts: 4 }
defs:
  inherits: { kind: task, action: set, settings: { retries: { backoff_ms: 5 } } }
  turns_on: { kind: task, action: set, settings: { retries: { enabled: true } } }
flow: [{ do: inherits }, { do: turns_on }]
outputs: {}
)",
                         "merge.yaml", Actions());
  ASSERT_TRUE(wf.ok()) << wf.status();
  const RetryPolicy& inherits = (*wf)->FindTask("inherits")->settings.retries;
  EXPECT_FALSE(inherits.enabled);
  EXPECT_EQ(inherits.max_attempts, 4);
  EXPECT_EQ(inherits.backoff_ms, 5);
  EXPECT_TRUE((*wf)->FindTask("turns_on")->settings.retries.enabled);
  auto on = LoadWorkflow(
      "defs:\n  t: { kind: task, action: set, settings: { retries: { max_attempts: 2 } } }\n"
      "flow: [{ do: t }]\noutputs: {}\n",
      "on.yaml", Actions());
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_TRUE((*on)->FindTask("t")->settings.retries.enabled);
  auto off =
      LoadWorkflow("defs:\n  t: { kind: task, action: set }\nflow: [{ do: t }]\noutputs: {}\n", "off.yaml", Actions());
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE((*off)->FindTask("t")->settings.retries.enabled);
}

}  // namespace
}  // namespace weft::dsl
