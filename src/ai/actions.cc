#include "weft/ai/actions.h"

#include <cstdio>
#include <ctime>
#include <mutex>
#include <unordered_map>

#include "agent.h"
#include "local_steps.h"
#include "memory.h"
#include "spend.h"
#include "weft/ai/structured.h"
#include "weft/core/json.h"
#include "weft/core/numeric_cast.h"

namespace weft::ai {
namespace {

namespace asio = boost::asio;
using engine::ActionContext;
using engine::ActionResult;

enum class Kind { kClassify, kExtract, kSummarize, kGenerateText, kGenerateObject, kDecide };

std::string Text(const Value& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_undefined()) return "";
  return ToJson(v);
}

// A setting, or the input of the same name.
Value Either(const ActionContext& ctx, std::string_view name) {
  Value v = ctx.inputs.get(name);
  return v.is_defined() ? v : ctx.settings.get(name);
}

// Names (and descriptions) of labels or options: an array of strings or an
// object name -> description.
Result<std::vector<std::pair<std::string, std::string>>> Choices(const Value& v, std::string_view what) {
  std::vector<std::pair<std::string, std::string>> out;
  if (v.is_array()) {
    for (const Value& item : v.as_array()) {
      if (!item.is_string() || item.as_string().empty()) {
        return InvalidArgumentError(std::string(what) + " must be non-empty strings");
      }
      out.emplace_back(item.as_string(), "");
    }
  } else if (v.is_object()) {
    for (const auto& m : v.members()) out.emplace_back(m.key, Text(m.value));
  } else {
    return InvalidArgumentError("the step needs " + std::string(what) +
                                " (a list of names, or a mapping name -> description)");
  }
  if (out.size() < 2) return InvalidArgumentError(std::string(what) + " needs at least two entries");
  return out;
}

Value EnumOf(const std::vector<std::pair<std::string, std::string>>& choices) {
  Value e = Value::MakeArray();
  for (const auto& [name, _] : choices) e.push_back(name);
  return e;
}

Value ConfidenceSchema() { return *ParseJson(R"({"type":"number","minimum":0,"maximum":1})"); }

using ChoiceList = std::vector<std::pair<std::string, std::string>>;

// The choices as a bulleted list for the prompt ("- name: description").
std::string Listed(const ChoiceList& choices) {
  std::string list;
  for (const auto& [name, description] : choices)
    list += "\n- " + name + (description.empty() ? "" : ": " + description);
  return list;
}

// {<field>: one of the choices, confidence: 0..1, <why>: a sentence}, for
// classify (label, rationale) and decide (choice, reason).
Value PickOneSchema(const ChoiceList& choices, const char* field, const char* why, bool why_required) {
  Value pick = Value::MakeObject();
  pick.set("enum", EnumOf(choices));
  Value text = Value::MakeObject();
  text.set("type", "string");
  Value props = Value::MakeObject();
  props.set(field, pick);
  props.set("confidence", ConfidenceSchema());
  props.set(why, text);
  Value required = Value::MakeArray({Value(field), Value("confidence")});
  if (why_required) required.push_back(Value(why));
  Value schema = Value::MakeObject();
  schema.set("type", "object");
  schema.set("properties", props);
  schema.set("required", required);
  return schema;
}

// A few-shot example's answer (internal::ExampleText has the forms): the
// answer of the {text, <field>: <value>} form is the object of its fields.
std::string ExampleAnswer(const Value& example) {
  if (Value out = example.get("output"); out.is_defined()) return Text(out);
  if (Value label = example.get("label"); label.is_defined()) return Text(label);
  Value fields = Value::MakeObject();
  for (const auto& m : example.members()) {
    if (m.key != "text" && m.key != "input") fields.set(m.key, m.value);
  }
  return ToJson(fields);
}

// The part of the prompt every kind shares: instruction, the author's
// prompt, the explicit context, few-shot examples, then the text.
std::string UserPrompt(const ActionContext& ctx, const std::string& instruction, std::string_view text_label) {
  std::string p = instruction;
  if (Value extra = ctx.settings.get("prompt"); extra.is_defined()) p += "\n\n" + Text(extra);
  if (Value context = ctx.settings.get("context"); context.is_object() && context.size() > 0) {
    p += "\n\nContext:";
    for (const auto& m : context.members()) p += "\n" + m.key + ": " + Text(m.value);
  } else if (context.is_defined() && !context.is_object()) {
    p += "\n\nContext:\n" + Text(context);
  }
  if (Value examples = ctx.settings.get("examples"); examples.is_array() && examples.size() > 0) {
    p += "\n\nExamples:";
    for (const Value& e : examples.as_array()) {
      p += "\nText: " + Text(internal::ExampleText(e)) + "\nAnswer: " + ExampleAnswer(e);
    }
  }
  if (Value text = ctx.inputs.get("text"); text.is_defined())
    p += "\n\n" + std::string(text_label) + ":\n" + Text(text);
  return p;
}

// An object schema with `confidence` (a number in [0,1]) added to it.
Value WithConfidence(const Value& schema) {
  Value s = Value::MakeObject();
  for (const auto& m : schema.members()) s.set(m.key, m.value);
  Value props = Value::MakeObject();
  if (Value p = schema.get("properties"); p.is_object()) {
    for (const auto& m : p.members()) props.set(m.key, m.value);
  }
  if (!props.find("confidence")) props.set("confidence", ConfidenceSchema());
  s.set("properties", props);
  Value required = Value::MakeArray();
  bool has = false;
  if (Value r = schema.get("required"); r.is_array()) {
    for (const Value& name : r.as_array()) {
      required.push_back(name);
      has = has || name == Value("confidence");
    }
  }
  if (!has) required.push_back("confidence");
  s.set("required", required);
  if (!s.find("type")) s.set("type", "object");
  return s;
}

// The extraction schema: every field may be null (not found), none required.
Value Nullable(const Value& schema) {
  Value s = Value::MakeObject();
  s.set("type", "object");
  Value props = Value::MakeObject();
  for (const auto& m : schema.get("properties").members()) {
    Value either = Value::MakeObject();
    Value options = Value::MakeArray();
    options.push_back(m.value);
    options.push_back(*ParseJson(R"({"type":"null"})"));
    either.set("anyOf", options);
    props.set(m.key, either);
  }
  s.set("properties", props);
  return s;
}

// What a kind sends and expects.
struct Plan {
  std::string system;
  std::string user;
  Value schema;  // undefined: plain text answer
};

Result<Plan> MakePlan(Kind kind, const ActionContext& ctx) {
  Plan plan;
  const Value system = ctx.settings.get("system");
  switch (kind) {
    case Kind::kClassify: {
      plan.system = "You classify text for a business workflow. Answer with JSON only.";
      Value output = ctx.settings.get("output_schema");
      if (output.is_object()) {
        plan.schema = WithConfidence(output);
        plan.user = UserPrompt(ctx,
                               "Classify the text. Fill every field of the JSON schema; give your confidence "
                               "(0 to 1) that the classification is right.",
                               "Text");
        break;
      }
      WEFT_ASSIGN_OR_RETURN(auto labels, Choices(Either(ctx, "labels"), "labels"));
      plan.schema = PickOneSchema(labels, "label", "rationale", false);
      plan.user = UserPrompt(ctx,
                             "Classify the text into exactly one of these labels:" + Listed(labels) +
                                 "\nAnswer {\"label\": ..., \"confidence\": 0..1, \"rationale\": one sentence}.",
                             "Text");
      break;
    }
    case Kind::kExtract: {
      plan.system =
          "You extract structured data from text. Answer with JSON only; use null for what the text does "
          "not say. Never invent values.";
      Value output = ctx.settings.get("output_schema");
      if (!output.is_object() || !output.get("properties").is_object()) {
        return InvalidArgumentError("extract needs settings.output_schema with the fields to extract (properties)");
      }
      plan.schema = Nullable(output);
      plan.user = UserPrompt(ctx, "Extract these fields from the text.", "Text");
      break;
    }
    case Kind::kSummarize: {
      plan.system = "You summarize text faithfully and briefly.";
      std::string instruction = "Summarize the text";
      if (Value words = ctx.settings.get("max_words"); words.is_number()) {
        instruction += " in at most " + std::to_string(SaturatingInt64(words.as_number())) + " words";
      }
      plan.user = UserPrompt(ctx, instruction + ". Answer with the summary only.", "Text");
      break;
    }
    case Kind::kGenerateText: {
      plan.system = "You write replies for a business workflow.";
      Value prompt = ctx.inputs.get("prompt");
      plan.user = UserPrompt(ctx, prompt.is_defined() ? Text(prompt) : "Write the reply.", "Message");
      break;
    }
    case Kind::kGenerateObject: {
      plan.system = "You turn natural language into JSON. Answer with JSON only.";
      Value output = ctx.settings.get("output_schema");
      if (!output.is_object()) return InvalidArgumentError("generate_object needs settings.output_schema");
      plan.schema = output;
      Value prompt = ctx.inputs.get("prompt");
      plan.user =
          UserPrompt(ctx, prompt.is_defined() ? Text(prompt) : "Produce the JSON value the text describes.", "Text");
      break;
    }
    case Kind::kDecide: {
      plan.system = "You make one decision for a business workflow. Answer with JSON only.";
      WEFT_ASSIGN_OR_RETURN(auto options, Choices(Either(ctx, "options"), "options"));
      plan.schema = PickOneSchema(options, "choice", "reason", true);
      Value question = Either(ctx, "question");
      plan.user = UserPrompt(ctx,
                             (question.is_defined() ? Text(question) + "\n\n" : std::string()) +
                                 "Choose exactly one of these options:" + Listed(options) +
                                 "\nAnswer {\"choice\": ..., \"confidence\": 0..1, \"reason\": one sentence}.",
                             "Text");
      break;
    }
  }
  if (system.is_defined()) plan.system = Text(system);
  return plan;
}

// The step's result from the validated answer.
Value Finish(Kind kind, const ActionContext& ctx, const Value& answer, const std::string& text) {
  switch (kind) {
    case Kind::kExtract: {
      Value out = Value::MakeObject();
      Value missing = Value::MakeArray();
      for (const auto& m : answer.members()) {
        if (!m.value.is_null()) out.set(m.key, m.value);
      }
      if (Value required = ctx.settings.get("output_schema").get("required"); required.is_array()) {
        for (const Value& name : required.as_array()) {
          if (name.is_string() && !out.find(name.as_string())) missing.push_back(name);
        }
      }
      out.set("missing_fields", missing);
      return out;
    }
    case Kind::kSummarize: {
      Value out = Value::MakeObject();
      out.set("summary", text);
      return out;
    }
    case Kind::kGenerateText: {
      Value out = Value::MakeObject();
      out.set("text", text);
      return out;
    }
    default: return answer;
  }
}

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kClassify: return "classify";
    case Kind::kExtract: return "extract";
    case Kind::kSummarize: return "summarize";
    case Kind::kGenerateText: return "generate_text";
    case Kind::kGenerateObject: return "generate_object";
    case Kind::kDecide: return "decide";
  }
  return "";
}

// The settings every AI step reads, and each kind's own.
dsl::Schema SettingsSchema(Kind kind) {
  std::string doc = R"({"type":"object","properties":{
    "model":{"type":"string","minLength":1},
    "system":{"type":"string"},
    "prompt":{"type":"string"},
    "context":{"type":"object"},
    "examples":{"type":"array","items":{"type":"object"}},
    "output_schema":{"type":"object"},
    "temperature":{"type":"number","minimum":0,"maximum":2},
    "max_tokens":{"type":"number","minimum":1},
    "cache":{"type":"boolean"},
    "budget":{"type":"object","additionalProperties":false,"properties":{
      "per_run":{"type":"number","minimum":0},"per_workflow_day":{"type":"number","minimum":0}}})";
  switch (kind) {
    case Kind::kClassify:
      doc += R"(,"labels":{"type":["array","object"]},
        "cascade":{"type":"object","additionalProperties":false,"required":["local_min_confidence"],"properties":{
          "local_min_confidence":{"type":"number","minimum":0,"maximum":1}}})";
      break;
    case Kind::kDecide: doc += R"(,"options":{"type":["array","object"]},"question":{"type":"string"})"; break;
    case Kind::kSummarize:
      doc += R"(,"max_words":{"type":"number","minimum":1},"memory":{"type":"string","minLength":1})";
      break;
    case Kind::kExtract: doc += R"(,"method":{"enum":["model","patterns"]})"; break;
    case Kind::kGenerateText: doc += R"(,"template":{},"stream":{"type":"boolean"})"; break;
    case Kind::kGenerateObject: break;
  }
  doc += "}}";
  return dsl::Schema::FromLiteral(doc);
}

// What can be told before a run of a step's model: an alias the
// configuration does not define (an error; a warning where no model is
// configured at all, as when validating on another machine), and a step
// that would run on the local model without what the local model needs.
dsl::ActionSpec::TaskFindings CheckModel(const Models& models, Kind kind, const dsl::Template& settings) {
  dsl::ActionSpec::TaskFindings found;
  const Value literal = settings.LiteralMembers();
  bool local = false;
  if (const Value alias = literal.get("model"); alias.is_string()) {
    Result<Models::Route> route = models.Resolve(alias.as_string());
    if (!route.ok()) {
      if (models.ConfiguredAliases().empty()) {
        found.warning = "model '" + alias.as_string() +
                        "' is not configured here (no models: in weft.yaml); where it is not, the step fails";
      } else {
        found.error = route.status().message();
      }
      return found;
    }
    local = route->provider == nullptr;
  } else if (!settings.HasMember("model")) {
    Result<Models::Route> route = models.Resolve("default");
    local = !route.ok() || route->provider == nullptr;
  }
  if (!local) return found;
  const char* where = models.ConfiguredAliases().empty() ? " (no model is configured)" : "";
  switch (kind) {
    case Kind::kClassify:
      if (!settings.HasMember("examples")) {
        found.error = std::string("classify runs on the local model here") + where +
                      ", which learns from settings.examples: give labelled examples, or set settings.model to a "
                      "configured alias";
      }
      break;
    case Kind::kGenerateText:
      if (!settings.HasMember("template")) {
        found.error = std::string("generate_text without a model") + where +
                      " needs settings.template (the reply, which may use expressions)";
      }
      break;
    case Kind::kExtract: break;  // pattern extraction needs nothing more
    default:
      found.error = std::string(KindName(kind)) + " needs a model" + where +
                    ": set settings.model to a configured alias, or configure a default one in weft.yaml";
  }
  return found;
}

class AiStep final : public engine::Action {
 public:
  AiStep(Kind kind, const AiOptions& options, const char* description, const char* inputs, const char* output)
      : kind_(kind), options_(options), clock_(options.clock != nullptr ? options.clock : &SystemClock::Instance()) {
    spec_.name = std::string(KindName(kind));
    spec_.description = description;
    spec_.immediate = false;  // it waits on the model
    spec_.input_schema = dsl::Schema::FromLiteral(inputs);
    if (output != nullptr) spec_.output_schema = dsl::Schema::FromLiteral(output);
    spec_.settings_schema = SettingsSchema(kind);
    spec_.check_task = [models = options.models, kind](const dsl::Template& settings, const dsl::Workflow&) {
      return CheckModel(*models, kind, settings);
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
    Value alias_value = ctx.settings.get("model");
    std::string alias = alias_value.is_string() ? alias_value.as_string() : "default";
    Result<Models::Route> route = options_.models->Resolve(alias);
    if (!route.ok() && !alias_value.is_defined()) route = options_.models->Resolve("local");
    if (!route.ok()) co_return ActionResult::Error(route.status());
    const ModelConfig& config = *route->config;
    detail.set("alias", config.alias);
    detail.set("provider", config.provider);
    if (!config.model.empty()) detail.set("model", config.model);

    Result<Plan> plan = MakePlan(kind_, ctx);
    if (!plan.ok()) co_return ActionResult::Error(plan.status());

    // Without a network: the local model, or the cascade answering locally
    // when it is confident enough.
    const bool patterns = kind_ == Kind::kExtract && ctx.settings.get("method") == Value("patterns");
    const Value threshold = ctx.settings.get("cascade").get("local_min_confidence");
    if (route->provider == nullptr || patterns || (kind_ == Kind::kClassify && threshold.is_number())) {
      Result<internal::LocalAnswer> local = Local(ctx, *plan);
      const bool only_local = route->provider == nullptr || patterns;
      if (only_local && !local.ok()) co_return ActionResult::Error(local.status());
      if (local.ok()) {
        detail.set("local", local->detail);
        const bool confident = only_local || local->confidence >= threshold.as_number();
        if (!only_local) {
          Value cascade = Value::MakeObject();
          cascade.set("local_confidence", local->confidence);
          cascade.set("threshold", threshold);
          cascade.set("decision", confident ? "local" : "model");
          detail.set("cascade", cascade);
        }
        if (confident) {
          detail.set("answered_by", "local");  // the alias's provider was not called
          Record(detail, config, Usage{}, 0);
          Status valid = plan->schema.is_defined() ? Validate(plan->schema, local->answer) : Status::Ok();
          if (!valid.ok()) co_return ActionResult::Error(valid);
          Value out = Finish(kind_, ctx, local->answer, Text(local->answer.get("text")));
          detail.set("output", out);
          co_return ActionResult::Ok(out);
        }
      } else {
        detail.set("local_error", local.status().message());
      }
    }

    ModelRequest request;
    request.model = config.model;
    request.messages.push_back({"system", plan->system});
    request.messages.push_back({"user", plan->user});
    if (Value t = ctx.settings.get("temperature"); t.is_number()) request.temperature = t.as_number();
    if (Value m = ctx.settings.get("max_tokens"); m.is_number()) request.max_tokens = SaturatingInt(m.as_number());
    request.json_mode = config.json_mode;
    request.timeout_ms = config.timeout_ms;
    request.schema_name = std::string(KindName(kind_));
    Value prompt = Value::MakeArray();
    for (const Message& m : request.messages) {
      Value msg = Value::MakeObject(2);
      msg.set("role", m.role);
      msg.set("content", m.content);
      prompt.push_back(msg);
    }
    detail.set("prompt", prompt);

    // The same request (model, prompt, schema, parameters) gets the answer
    // a model gave before, validated then, without calling it.
    const Value cache_setting = ctx.settings.get("cache");
    const bool use_cache = options_.store != nullptr && cache_setting != Value(false);
    const std::string request_text = use_cache ? CanonicalRequest(config, request, plan->schema) : "";
    const std::string cache_key = use_cache ? CacheKey(request_text) : "";
    detail.set("cache", use_cache ? "miss" : "off");
    // The store's reads and writes here run on the engine's blocking pool
    // (engine::Blocking), never on the run's thread.
    if (use_cache) {
      auto lookup = [this, &cache_key] { return options_.store->CacheGet(cache_key, clock_->NowMillis()); };
      Result<std::optional<std::string>> hit = co_await engine::Blocking(ctx, std::move(lookup));
      Result<Value> entry = hit.ok() && hit->has_value() ? ParseJson(**hit) : Result<Value>(Value());
      if (entry.ok() && entry->get("request") == Value(request_text)) {
        detail.set("cache", "hit");
        Record(detail, config, Usage{}, 0);
        Value out = Finish(kind_, ctx, entry->get("answer"), Text(entry->get("text")));
        Status kept = co_await KeepSummary(ctx, out);
        if (!kept.ok()) co_return ActionResult::Error(kept);
        detail.set("output", out);
        co_return ActionResult::Ok(out);
      }
    }
    if (Status budget = co_await internal::CheckBudget(options_.store, *clock_, ctx, detail); !budget.ok()) {
      co_return ActionResult::Error(budget);
    }

    Value answer;
    std::string text;
    Usage usage;
    int64_t latency = 0;
    if (plan->schema.is_defined()) {
      Result<dsl::Schema> schema = CompiledSchema(plan->schema);
      if (!schema.ok()) co_return ActionResult::Error(schema.status());
      StructuredOutcome o = co_await CompleteStructured(*route->provider, std::move(request), *schema, 1);
      detail.set("attempts", o.attempts);
      detail.set("repairs", static_cast<int64_t>(o.attempts.size()) - 1);
      usage = o.usage;
      latency = o.latency_ms;
      Record(detail, config, usage, latency);
      co_await internal::CountSpend(options_.store, *clock_, ctx, config, usage,
                                    static_cast<int64_t>(o.attempts.size()));
      if (!o.status.ok()) co_return ActionResult::Error(o.status);
      answer = o.value;
    } else {
      // generate_text with `stream: true` hands the text on as it comes.
      if (kind_ == Kind::kGenerateText && ctx.settings.get("stream") == Value(true) && ctx.stream) {
        request.on_text = ctx.stream;
        detail.set("streamed", true);
      }
      Result<ModelResponse> r = co_await route->provider->Complete(request);
      if (!r.ok()) {
        detail.set("error", r.status().ToString());
        co_return ActionResult::Error(r.status());
      }
      text = r->text;
      usage = r->usage;
      latency = r->latency_ms;
      Value attempt = Value::MakeObject();
      attempt.set("raw", text);
      Value attempts = Value::MakeArray();
      attempts.push_back(attempt);
      detail.set("attempts", attempts);
      Record(detail, config, usage, latency);
      co_await internal::CountSpend(options_.store, *clock_, ctx, config, usage, 1);
      size_t b = text.find_first_not_of(" \t\r\n");
      size_t e = text.find_last_not_of(" \t\r\n");
      text = b == std::string::npos ? "" : text.substr(b, e - b + 1);
      if (text.empty()) co_return ActionResult::Error(InvalidArgumentError("the model's answer is empty"));
    }
    if (use_cache) {
      Value entry = Value::MakeObject();
      entry.set("request", request_text);
      entry.set("answer", answer);
      entry.set("text", text);
      const Value ttl = cache_setting.get("ttl_ms");
      const int64_t ttl_ms = ttl.is_number() ? SaturatingInt64(ttl.as_number()) : options_.cache_ttl_ms;
      // A cache that cannot be written costs a later call, not this answer.
      auto keep = [this, &cache_key, text = ToJson(entry), expires = clock_->NowMillis() + ttl_ms] {
        return options_.store->CachePut(cache_key, text, expires);
      };
      (void)co_await engine::Blocking(ctx, std::move(keep));
    }
    Value out = Finish(kind_, ctx, answer, text);
    Status kept = co_await KeepSummary(ctx, out);
    if (!kept.ok()) co_return ActionResult::Error(kept);
    detail.set("output", out);
    co_return ActionResult::Ok(out);
  }

  // `summarize` with `settings.memory: <conversation>` keeps its summary as
  // that conversation's running summary.
  asio::awaitable<Status> KeepSummary(const ActionContext& ctx, const Value& out) const {
    const Value conversation = ctx.settings.get("memory");
    if (kind_ != Kind::kSummarize || !conversation.is_string()) co_return Status::Ok();
    if (options_.store == nullptr) co_return FailedPreconditionError("conversation memory needs a store");
    const Value summary = out.get("summary");
    auto update = [this, &ctx, &conversation, &summary] {
      return internal::UpdateMemory(*options_.store, conversation.as_string(), ctx.AttemptKey(),
                                    [&summary](Value& m) { m.set("summary", summary); })
          .status();
    };
    co_return co_await engine::Blocking(ctx, std::move(update));
  }

  // Everything that makes two requests the same request.
  std::string CanonicalRequest(const ModelConfig& config, const ModelRequest& request, const Value& schema) const {
    Value r = Value::MakeObject();
    r.set("step", std::string(KindName(kind_)));
    r.set("provider", config.provider);
    r.set("base_url", config.base_url);
    r.set("model", request.model);
    Value messages = Value::MakeArray();
    for (const Message& m : request.messages) {
      messages.push_back(Value(m.role));
      messages.push_back(Value(m.content));
    }
    r.set("messages", messages);
    if (request.temperature) r.set("temperature", *request.temperature);
    r.set("max_tokens", request.max_tokens);
    r.set("json_mode", static_cast<int>(request.json_mode));
    r.set("schema", schema.is_defined() ? schema : Value::Null());
    return ToJson(r);
  }

  static std::string CacheKey(const std::string& request) {
    uint64_t a = 1469598103934665603ULL;
    uint64_t b = 0x9e3779b97f4a7c15ULL;
    for (unsigned char c : request) {
      a = (a ^ c) * 1099511628211ULL;
      b = (b ^ c) * 0x100000001b3ULL + 0x7f4a7c15ULL;
    }
    char key[48];
    std::snprintf(key, sizeof key, "ai:%016llx%016llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b));
    return key;
  }

  Result<internal::LocalAnswer> Local(const ActionContext& ctx, const Plan& plan) const {
    switch (kind_) {
      case Kind::kClassify: return internal::ClassifyLocally(ctx, plan.schema, Classifiers());
      case Kind::kExtract: return internal::ExtractByPatterns(ctx);
      case Kind::kGenerateText: return internal::TemplateReply(ctx);
      default: break;
    }
    return Status(StatusCode::kUnimplemented,
                  std::string(KindName(kind_)) + " needs a model: set settings.model to a configured alias");
  }

  Status Validate(const Value& schema_doc, const Value& answer) const {
    Result<dsl::Schema> schema = CompiledSchema(schema_doc);
    if (!schema.ok()) return schema.status();
    return schema->Validate(answer, "local answer");
  }

  // Compiling a schema costs more than the rest of a step: each distinct
  // schema is compiled once (a step's schema changes only when its
  // settings' expressions make it).
  Result<dsl::Schema> CompiledSchema(const Value& doc) const {
    std::string key = ToJson(doc);
    std::lock_guard lock(schemas_mu_);
    if (auto it = schemas_.find(key); it != schemas_.end()) return it->second;
    Result<dsl::Schema> compiled = dsl::Schema::Compile(doc);
    if (!compiled.ok()) return compiled.status().WithContext("the step's output_schema");
    if (schemas_.size() >= 1024) schemas_.clear();
    schemas_.emplace(std::move(key), *compiled);
    return compiled;
  }

  static void Record(Value& detail, const ModelConfig& config, const Usage& usage, int64_t latency) {
    Value tokens = Value::MakeObject();
    tokens.set("input", usage.input_tokens);
    tokens.set("output", usage.output_tokens);
    if (usage.estimated) tokens.set("estimated", true);
    detail.set("tokens", tokens);
    detail.set("cost", config.Cost(usage));
    detail.set("latency_ms", latency);
  }

  Kind kind_;
  AiOptions options_;
  const Clock* clock_;
  dsl::ActionSpec spec_;
  // One per process: a classifier trained from the same examples is the
  // same whichever registry asks (`weft test` builds one per case).
  static internal::ClassifierCache& Classifiers() {
    static auto* cache = new internal::ClassifierCache();
    return *cache;
  }
  mutable std::mutex schemas_mu_;
  mutable std::unordered_map<std::string, dsl::Schema> schemas_;
};

}  // namespace

Status RegisterAiActions(engine::ActionRegistry& registry, const AiOptions& options) {
  if (options.models == nullptr) return InvalidArgumentError("AiOptions.models is required");
  const char* text_input = R"({"type":"object","required":["text"],"properties":{"text":{"type":"string"}}})";
  const char* text_or_prompt =
      R"({"type":"object","properties":{"text":{"type":"string"},"prompt":{"type":"string"}}})";
  struct Def {
    Kind kind;
    const char* description;
    const char* inputs;
    const char* output;
  };
  const Def defs[] = {
      {Kind::kClassify, "Classifies text into labels (or fills a schema) with a confidence in [0,1]",
       R"({"type":"object","required":["text"],"properties":{"text":{"type":"string"},
           "labels":{"type":["array","object"]}}})",
       R"({"type":"object","required":["confidence"],"properties":{"confidence":{"type":"number","minimum":0,"maximum":1}}})"},
      {Kind::kExtract, "Extracts the fields of a schema from text, and lists the required ones it could not find",
       text_input, R"({"type":"object","required":["missing_fields"]})"},
      {Kind::kSummarize, "Summarizes text", text_input,
       R"({"type":"object","required":["summary"],"properties":{"summary":{"type":"string"}}})"},
      {Kind::kGenerateText, "Writes text (a reply, an answer)", text_or_prompt,
       R"({"type":"object","required":["text"],"properties":{"text":{"type":"string"}}})"},
      {Kind::kGenerateObject, "Turns natural language into JSON matching a schema", text_or_prompt, nullptr},
      {Kind::kDecide, "Picks one of named options, with a confidence in [0,1] and a reason",
       R"({"type":"object","properties":{"question":{"type":"string"},"text":{"type":"string"},
           "options":{"type":["array","object"]}}})",
       R"({"type":"object","required":["choice","confidence"],"properties":{"confidence":{"type":"number","minimum":0,"maximum":1}}})"},
  };
  for (const Def& d : defs) {
    WEFT_RETURN_IF_ERROR(
        registry.Register(std::make_unique<AiStep>(d.kind, options, d.description, d.inputs, d.output)));
  }
  WEFT_RETURN_IF_ERROR(registry.Register(internal::NewAgent(options)));
  return internal::RegisterMemoryActions(registry, options.store);
}

}  // namespace weft::ai
