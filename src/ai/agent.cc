// The agent step: a bounded tool-calling loop over an allow-list of the
// workflow's declared actions.
//
// Durability comes from sub-steps (engine/action.h): each model turn is
// recorded as "turn.<i>" (its text, tool calls, usage and cost), and each
// tool call runs as sub-step "turn.<i>.tool.<j>" through SubSteps::Call,
// with the permission, schema and approval checks of a task. Running the
// step again (after a crash, an approval, a retry) replays what is recorded
// and continues from there: no model turn and no tool call is repeated.
#include "agent.h"

#include "spend.h"
#include "weft/core/json.h"
#include "weft/core/numeric_cast.h"
#include "weft/dsl/workflow.h"

namespace weft::ai::internal {
namespace {

namespace asio = boost::asio;
using engine::ActionContext;
using engine::ActionResult;

constexpr int kDefaultIterations = 8;

// A recorded model turn back into what the provider said.
ModelResponse Decode(const Value& turn) {
  ModelResponse r;
  r.text = turn.get("text").is_string() ? turn.get("text").as_string() : "";
  if (Value calls = turn.get("tool_calls"); calls.is_array()) {
    for (const Value& c : calls.as_array()) {
      r.tool_calls.push_back({c.get("id").is_string() ? c.get("id").as_string() : "",
                              c.get("name").is_string() ? c.get("name").as_string() : "", c.get("arguments")});
    }
  }
  r.usage.input_tokens =
      SaturatingInt64(turn.get("input_tokens").is_number() ? turn.get("input_tokens").as_number() : 0);
  r.usage.output_tokens =
      SaturatingInt64(turn.get("output_tokens").is_number() ? turn.get("output_tokens").as_number() : 0);
  return r;
}

Value Encode(const ModelResponse& r, double cost) {
  Value turn = Value::MakeObject();
  turn.set("text", r.text);
  Value::Array calls;
  for (const ToolCall& c : r.tool_calls) {
    Value call = Value::MakeObject();
    call.set("id", c.id);
    call.set("name", c.name);
    call.set("arguments", c.arguments);
    calls.push_back(call);
  }
  turn.set("tool_calls", Value::MakeArray(std::move(calls)));
  turn.set("input_tokens", static_cast<double>(r.usage.input_tokens));
  turn.set("output_tokens", static_cast<double>(r.usage.output_tokens));
  turn.set("cost", cost);
  if (!r.model.empty()) turn.set("model", r.model);
  return turn;
}

// The final answer: JSON matching `schema` when there is one.
Result<Value> FinalAnswer(const std::string& text, const Value& schema_doc) {
  if (!schema_doc.is_defined()) return Value(text);
  std::string body = text;
  // Models like to fence JSON.
  if (size_t fence = body.find("```"); fence != std::string::npos) {
    size_t start = body.find('\n', fence);
    size_t end = body.rfind("```");
    if (start != std::string::npos && end > start) body = body.substr(start + 1, end - start - 1);
  }
  Result<Value> v = ParseJson(body);
  if (!v.ok()) return InvalidArgumentError("the final answer is not JSON: " + v.status().message());
  Result<dsl::Schema> schema = dsl::Schema::Compile(schema_doc);
  if (!schema.ok()) return InvalidArgumentError("settings.output_schema: " + schema.status().message());
  WEFT_RETURN_IF_ERROR(schema->Validate(*v, "final answer"));
  return v;
}

// Why the agent's literal `tools` cannot work in `wf`, or "".
std::string ToolProblem(const Value& settings, const dsl::Workflow& wf) {
  const Value tools = settings.get("tools");
  if (tools.is_undefined()) return "";  // an expression: checked when it runs
  if (!tools.is_array()) return "settings.tools must be a list of the workflow's action names";
  for (const std::string& name : StringsOf(tools)) {
    auto it = wf.actions.find(name);
    if (it == wf.actions.end()) {
      return "settings.tools: '" + name + "' is not an action the workflow declares (under 'actions:')";
    }
    const uint32_t missing = it->second.spec.needs & ~wf.permissions.Granted();
    if (missing != 0) {
      return "settings.tools: '" + name + "' needs the '" + dsl::NeedNames(missing) +
             "' permission, which the workflow does not grant";
    }
    if (it->second.spec.suspends) return "settings.tools: '" + name + "' waits for a person; an agent cannot use it";
  }
  return "";
}

class Agent final : public engine::Action {
 public:
  explicit Agent(const AiOptions& options)
      : options_(options), clock_(options.clock != nullptr ? options.clock : &SystemClock::Instance()) {
    spec_.name = "agent";
    spec_.description =
        "Works towards a goal by calling the workflow's actions (an allow-list), then answers; bounded in turns and "
        "cost";
    spec_.input_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["goal"],"properties":{
      "goal":{"type":"string","minLength":1}}})");
    spec_.output_schema =
        dsl::Schema::FromLiteral(R"({"type":"object","required":["answer","iterations","tool_calls"]})");
    spec_.settings_schema = dsl::Schema::FromLiteral(R"({"type":"object","properties":{
      "model":{"type":"string","minLength":1},
      "system":{"type":"string"},
      "context":{},
      "tools":{"type":"array","items":{"type":"string"}},
      "max_iterations":{"type":"number","minimum":1},
      "stop_step_count":{"type":"number","minimum":1},
      "max_cost":{"type":"number","minimum":0},
      "output_schema":{"type":"object"},
      "temperature":{"type":"number","minimum":0,"maximum":2},
      "budget":{"type":"object","additionalProperties":false,"properties":{
        "per_run":{"type":"number","minimum":0},"per_workflow_day":{"type":"number","minimum":0}}}}})");
    spec_.check_task = [](const dsl::Template& settings, const dsl::Workflow& wf) -> dsl::ActionSpec::TaskFindings {
      return {ToolProblem(settings.LiteralMembers(), wf), ""};
    };
    // It waits when a tool needs approval (tools given by an expression:
    // perhaps).
    spec_.may_suspend = [](const Value& settings, const dsl::Workflow& wf) {
      const Value tools = settings.get("tools");
      if (!tools.is_array()) return true;
      for (const std::string& name : StringsOf(tools)) {
        auto it = wf.actions.find(name);
        if (it != wf.actions.end() && it->second.spec.sensitive) return true;
      }
      return false;
    };
  }
  const dsl::ActionSpec& spec() const override { return spec_; }

  asio::awaitable<ActionResult> Execute(ActionContext& ctx) const override {
    Value detail = Value::MakeObject();
    ActionResult result = co_await Run(ctx, detail);
    ctx.detail = detail;
    co_return result;
  }

 private:
  asio::awaitable<ActionResult> Run(ActionContext& ctx, Value& detail) const {
    if (ctx.sub_steps == nullptr || ctx.definition == nullptr) {
      co_return ActionResult::Error(InternalError("the agent needs an engine that records sub-steps"));
    }
    const Value alias_value = ctx.settings.get("model");
    const std::string alias = alias_value.is_string() ? alias_value.as_string() : "default";
    Result<Models::Route> route = options_.models->Resolve(alias);
    if (!route.ok()) co_return ActionResult::Error(route.status());
    if (route->provider == nullptr) {
      co_return ActionResult::Error(FailedPreconditionError(
          "the agent needs a model that can call functions: set settings.model to an OpenAI-compatible or "
          "Anthropic alias"));
    }
    const ModelConfig& config = *route->config;
    detail.set("alias", config.alias);
    detail.set("model", config.model);

    // The tools: declared actions on the allow-list, described by their schemas.
    const std::vector<std::string> allowed = StringsOf(ctx.settings.get("tools"));
    std::vector<ToolSpec> tools;
    for (const std::string& name : allowed) {
      auto it = ctx.definition->actions.find(name);
      if (it == ctx.definition->actions.end()) {
        co_return ActionResult::Error(
            InvalidArgumentError("settings.tools: '" + name + "' is not an action the workflow declares"));
      }
      const dsl::ActionSpec& s = it->second.spec;
      Value parameters = s.input_schema ? s.input_schema->document() : *ParseJson(R"({"type":"object"})");
      tools.push_back({name, s.description, parameters});
    }
    int max_iterations = kDefaultIterations;
    for (const char* key : {"max_iterations", "stop_step_count"}) {
      if (Value v = ctx.settings.get(key); v.is_number() && v.as_number() >= 1) {
        max_iterations = SaturatingInt(v.as_number());
      }
    }
    const Value max_cost = ctx.settings.get("max_cost");
    const Value output_schema = ctx.settings.get("output_schema");

    std::vector<Message> messages;
    std::string system = ctx.settings.get("system").is_string()
                             ? ctx.settings.get("system").as_string()
                             : "You complete the user's goal using the functions you are given. Call a function "
                               "when you need its result; when you have what you need, answer without calling one.";
    if (output_schema.is_defined()) {
      system += "\nYour final answer must be only a JSON value matching this JSON Schema: " + ToJson(output_schema);
    }
    messages.push_back({"system", system});
    std::string user = ctx.inputs.get("goal").as_string();
    if (Value c = ctx.settings.get("context"); c.is_defined()) user += "\n\nContext: " + ToJson(c);
    messages.push_back({"user", user});

    double cost = 0;
    int calls_made = 0;
    Value::Array trace;
    for (int turn = 0; turn < max_iterations; ++turn) {
      const std::string turn_name = "turn." + std::to_string(turn);
      ModelResponse response;
      if (std::optional<ActionResult> recorded = ctx.sub_steps->Find(ctx, turn_name); recorded && recorded->ok()) {
        response = Decode(recorded->output());
        cost += recorded->output().get("cost").is_number() ? recorded->output().get("cost").as_number() : 0;
      } else {
        if (max_cost.is_number() && cost >= max_cost.as_number()) {
          detail.set("trace", Value::MakeArray(std::move(trace)));
          co_return ActionResult::Error(ResourceExhaustedError("the agent reached its max_cost of " + ToJson(max_cost) +
                                                               " after " + std::to_string(turn) + " turns"));
        }
        if (Status budget = co_await CheckBudget(options_.store, *clock_, ctx, detail); !budget.ok()) {
          co_return ActionResult::Error(budget);
        }
        ModelRequest request;
        request.model = config.model;
        request.messages = messages;
        request.timeout_ms = config.timeout_ms;
        if (Value t = ctx.settings.get("temperature"); t.is_number()) request.temperature = t.as_number();
        // The last turn must answer.
        if (turn + 1 < max_iterations) request.tools = tools;
        Result<ModelResponse> r = co_await route->provider->Complete(request);
        if (!r.ok()) {
          detail.set("trace", Value::MakeArray(std::move(trace)));
          co_return ActionResult::Error(r.status().WithContext("agent turn " + std::to_string(turn)));
        }
        response = std::move(r).value();
        const double turn_cost = config.Cost(response.usage);
        cost += turn_cost;
        co_await CountSpend(options_.store, *clock_, ctx, config, response.usage, 1);
        Value input = Value::MakeObject();
        input.set("messages", static_cast<double>(messages.size()));
        input.set("tools", static_cast<double>(request.tools.size()));
        Status s = co_await ctx.sub_steps->Record(ctx, turn_name, "agent_turn", input,
                                                  ActionResult::Ok(Encode(response, turn_cost)), Value());
        if (!s.ok()) co_return ActionResult::Error(s);
      }
      Message assistant{"assistant", response.text, response.tool_calls, ""};
      messages.push_back(assistant);
      Value step = Value::MakeObject();
      step.set("turn", turn);
      if (response.tool_calls.empty()) {
        Result<Value> answer = FinalAnswer(response.text, output_schema);
        if (!answer.ok()) {
          // Say what was wrong and let it try again (one turn of the budget).
          step.set("invalid_answer", answer.status().message());
          trace.push_back(step);
          messages.push_back({"user", "That answer is not usable: " + answer.status().message() +
                                          ". Answer again with only the JSON value."});
          continue;
        }
        step.set("answer", *answer);
        trace.push_back(step);
        detail.set("trace", Value::MakeArray(std::move(trace)));
        detail.set("cost", cost);
        Value out = Value::MakeObject();
        out.set("answer", *answer);
        out.set("iterations", turn + 1);
        out.set("tool_calls", calls_made);
        out.set("cost", cost);
        co_return ActionResult::Ok(out);
      }
      Value::Array called;
      for (size_t j = 0; j < response.tool_calls.size(); ++j) {
        const ToolCall& call = response.tool_calls[j];
        const std::string name = turn_name + ".tool." + std::to_string(j);
        ActionResult result =
            ActionResult::Error(PermissionDeniedError("'" + call.name + "' is not one of the functions you may call"));
        const bool allowed_call = std::find(allowed.begin(), allowed.end(), call.name) != allowed.end();
        if (allowed_call && !call.arguments.is_object()) {
          result = ActionResult::Error(InvalidArgumentError("the arguments are not a JSON object"));
        } else if (allowed_call) {
          result = co_await ctx.sub_steps->Call(ctx, name, call.name, call.arguments);
          ++calls_made;
        }
        if (result.suspended()) {
          detail.set("trace", Value::MakeArray(std::move(trace)));
          co_return result;  // approval of a sensitive tool: the step runs again once decided
        }
        Value c = Value::MakeObject();
        c.set("tool", call.name);
        c.set("ok", result.ok());
        called.push_back(c);
        std::string content =
            result.ok() ? ToJson(result.output()) : "{\"error\":" + ToJson(Value(result.status().message())) + "}";
        messages.push_back({"tool", content, {}, call.id});
      }
      step.set("tool_calls", Value::MakeArray(std::move(called)));
      trace.push_back(step);
    }
    detail.set("trace", Value::MakeArray(std::move(trace)));
    co_return ActionResult::Error(
        ResourceExhaustedError("the agent gave no final answer within " + std::to_string(max_iterations) + " turns"));
  }

  AiOptions options_;
  const Clock* clock_;
  dsl::ActionSpec spec_;
};

}  // namespace

std::unique_ptr<engine::Action> NewAgent(const AiOptions& options) { return std::make_unique<Agent>(options); }

}  // namespace weft::ai::internal
