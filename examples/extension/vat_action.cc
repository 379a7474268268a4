// Extending weft with a native action, end to end: a `vat` action written in
// C++, registered next to the built-in ones, used by a workflow
// (invoice.yaml, next to this file) and run.
//
//   build/ci/examples/extension/weft_extension_example examples/extension/invoice.yaml
//
// A real deployment registers its actions in its own main() the same way,
// before it loads any workflow (see docs/actions.md).
#include <iostream>

#include "weft/actions/builtin.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace {

// Adds VAT to a net amount, at a rate per country.
class VatAction final : public weft::engine::Action {
 public:
  VatAction() {
    spec_.name = "vat";
    spec_.description = "Adds VAT to a net amount for a country";
    spec_.immediate = true;  // computes at once: no I/O, no timers
    spec_.pure = true;       // and touches nothing outside the run
    spec_.input_schema = weft::dsl::Schema::FromLiteral(R"({"type":"object","required":["net","country"],"properties":{
        "net":{"type":"number","minimum":0},"country":{"type":"string","minLength":2,"maxLength":2}}})");
    spec_.output_schema = weft::dsl::Schema::FromLiteral(R"({"type":"object","required":["gross","vat","rate"]})");
    // Its own settings (none here): validation refuses any key it does not list.
    spec_.settings_schema = weft::dsl::Schema::FromLiteral(R"({"type":"object","additionalProperties":false})");
  }
  const weft::dsl::ActionSpec& spec() const override { return spec_; }

  boost::asio::awaitable<weft::engine::ActionResult> Execute(weft::engine::ActionContext& ctx) const override {
    const double net = ctx.inputs.get("net").as_number();
    const std::string country = ctx.inputs.get("country").as_string();
    double rate = 0;
    if (country == "FR") rate = 0.20;
    if (country == "DE") rate = 0.19;
    if (country == "LU") rate = 0.17;
    if (rate == 0) {
      // A status whose code says a retry cannot help.
      co_return weft::engine::ActionResult::Error(
          weft::InvalidArgumentError("no VAT rate for country '" + country + "'"));
    }
    weft::Value out = weft::Value::MakeObject();
    out.set("rate", rate);
    out.set("vat", net * rate);
    out.set("gross", net * (1 + rate));
    co_return weft::engine::ActionResult::Ok(out);
  }

 private:
  weft::dsl::ActionSpec spec_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: weft_extension_example <workflow.yaml> [input JSON]\n";
    return 2;
  }
  weft::engine::ActionRegistry registry;
  if (weft::Status s = weft::actions::RegisterBuiltinActions(registry); !s.ok()) return 1;
  if (weft::Status s = registry.Register(std::make_unique<VatAction>()); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  auto wf = weft::dsl::LoadWorkflowFile(argv[1], registry);
  if (!wf.ok()) {
    std::cerr << wf.status().message() << "\n";
    return 1;
  }
  auto store = weft::store::NewMemoryStore();
  weft::engine::EngineOptions options;
  options.store = store.get();
  options.actions = &registry;
  auto engine = std::move(weft::engine::Engine::Create(std::move(options))).value();
  const int64_t version = *engine->Deploy(*wf);
  auto input = weft::ParseJson(argc > 2 ? argv[2] : R"({"net": 100, "country": "FR"})");
  if (!input.ok()) {
    std::cerr << "input: " << input.status().message() << "\n";
    return 2;
  }
  auto run = engine->Wait(*engine->Start((*wf)->name, version, *input));
  if (!run.ok()) return 1;
  if (run->status != weft::store::RunStatus::kCompleted) {
    std::cerr << "run " << weft::store::RunStatusName(run->status) << ": " << run->error << "\n";
    return 1;
  }
  std::cout << weft::ToJson(run->outputs, 2) << "\n";
  return 0;
}
