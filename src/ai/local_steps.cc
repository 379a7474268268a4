#include "local_steps.h"

#include <re2/re2.h>

#include <cctype>

#include "weft/core/json.h"

namespace weft::ai::internal {

namespace {

std::string Text(const Value& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_undefined()) return "";
  return ToJson(v);
}

// An example's expected value for `field` ("label" in label mode): from
// `output.<field>`, else `<field>` at the top.
Value ExpectedOf(const Value& example, std::string_view field) {
  if (Value out = example.get("output"); out.is_object()) return out.get(field);
  if (field == "label" && example.get("label").is_undefined()) return example.get("output");
  return example.get(field);
}

}  // namespace

Result<std::shared_ptr<const LocalClassifier>> ClassifierCache::Get(const std::vector<LabelledText>& examples) {
  std::string key;
  for (const LabelledText& e : examples) key.append(e.label).append(1, '\x1f').append(e.text).append(1, '\x1e');
  std::lock_guard lock(mu_);
  if (auto it = trained_.find(key); it != trained_.end()) return it->second;
  WEFT_ASSIGN_OR_RETURN(LocalClassifier c, LocalClassifier::Train(examples));
  if (trained_.size() >= 256) trained_.clear();  // bounded: workflows rarely have more classifiers
  auto shared = std::make_shared<const LocalClassifier>(std::move(c));
  trained_.emplace(std::move(key), shared);
  return std::shared_ptr<const LocalClassifier>(shared);
}

Value ExampleText(const Value& example) {
  return example.get("text").is_defined() ? example.get("text") : example.get("input");
}

Result<LocalAnswer> ClassifyLocally(const engine::ActionContext& ctx, const Value& schema, ClassifierCache& cache) {
  const Value examples = ctx.settings.get("examples");
  if (!examples.is_array() || examples.size() == 0) {
    return Status(StatusCode::kUnimplemented,
                  "the local classifier needs labelled examples in settings.examples ({text, label} or {text, "
                  "<field>: <value>, ...})");
  }
  const std::string text = Text(ctx.inputs.get("text"));
  // One classifier per field with a closed set of values: `label`, or each
  // enum field of the author's schema.
  std::vector<std::string> fields;
  for (const auto& m : schema.get("properties").members()) {
    if (m.key != "confidence" && m.value.get("enum").is_array()) fields.push_back(m.key);
  }
  if (fields.empty()) {
    return Status(StatusCode::kUnimplemented, "the local classifier answers only fields with an enum of values");
  }
  LocalAnswer out;
  out.answer = Value::MakeObject();
  out.detail = Value::MakeObject();
  Value per_field = Value::MakeObject();
  for (const std::string& field : fields) {
    std::vector<LabelledText> data;
    for (const Value& e : examples.as_array()) {
      Value expected = ExpectedOf(e, field);
      Value t = ExampleText(e);
      if (expected.is_string() && t.is_string()) data.push_back({t.as_string(), expected.as_string()});
    }
    if (data.empty()) {
      return Status(StatusCode::kUnimplemented, "no example gives a value for '" + field + "'");
    }
    auto classifier = cache.Get(data);
    if (!classifier.ok()) return classifier.status().WithContext("training the local classifier for '" + field + "'");
    Prediction p = (*classifier)->Predict(text);
    out.answer.set(field, p.label);
    // The chance that every field is right: each field's calibrated
    // confidence, multiplied (the least of them would promise more).
    out.confidence *= p.confidence;
    Value f = Value::MakeObject();
    f.set("label", p.label);
    f.set("confidence", p.confidence);
    f.set("examples", static_cast<int64_t>(data.size()));
    per_field.set(field, f);
  }
  out.answer.set("confidence", out.confidence);
  out.detail.set("fields", per_field);
  return out;
}

namespace {

struct Pattern {
  const char* kind;
  const char* regex;
};

// Checked in order: the first kind a field's format or name points to.
constexpr Pattern kPatterns[] = {
    {"email", R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})"},
    {"url", R"(https?://[^\s<>"']+[^\s<>"'.,;:!?)])"},
    {"phone", R"(\+?[0-9]{1,3}[ .-]?\(?[0-9]{2,4}\)?[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,4})"},
    {"amount",
     R"((?:[$€£]\s?[0-9][0-9,]*(?:\.[0-9]{1,2})?)|(?:[0-9][0-9,]*(?:\.[0-9]{1,2})?\s?(?:USD|EUR|GBP|dollars|euros)))"},
    {"date", R"([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4})"},
    {"id", R"(#[0-9]{3,}|[A-Z]{2,}-?[0-9]{3,})"},
};

std::string KindOf(const std::string& name, const Value& property) {
  const std::string format = Text(property.get("format"));
  if (format == "email") return "email";
  if (format == "uri" || format == "url") return "url";
  if (format == "date" || format == "date-time") return "date";
  std::string n;
  for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n.find("email") != std::string::npos) return "email";
  if (n.find("phone") != std::string::npos || n.find("tel") != std::string::npos) return "phone";
  if (n.find("url") != std::string::npos || n.find("link") != std::string::npos ||
      n.find("website") != std::string::npos) {
    return "url";
  }
  for (const char* w : {"amount", "price", "total", "cost", "sum"}) {
    if (n.find(w) != std::string::npos) return "amount";
  }
  if (n.find("date") != std::string::npos || n.find("day") != std::string::npos) return "date";
  for (const char* w : {"id", "order", "ticket", "invoice", "number", "reference"}) {
    if (n.find(w) != std::string::npos) return "id";
  }
  return "";
}

const RE2& Compiled(const std::string& kind) {
  static const auto* table = [] {
    auto* m = new std::unordered_map<std::string, std::unique_ptr<RE2>>();
    for (const Pattern& p : kPatterns) m->emplace(p.kind, std::make_unique<RE2>(p.regex));
    return m;
  }();
  return *table->at(kind);
}

Value AmountValue(const std::string& match, const Value& property) {
  if (property.get("type") != Value("number")) return match;
  std::string digits;
  for (char c : match) {
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') digits += c;
  }
  try {
    return std::stod(digits);
  } catch (const std::exception&) {
    return Value();
  }
}

}  // namespace

Result<LocalAnswer> ExtractByPatterns(const engine::ActionContext& ctx) {
  const Value schema = ctx.settings.get("output_schema");
  const std::string text = Text(ctx.inputs.get("text"));
  LocalAnswer out;
  out.answer = Value::MakeObject();
  Value used = Value::MakeObject();
  for (const auto& m : schema.get("properties").members()) {
    std::string match;
    std::string kind;
    if (Value custom = m.value.get("pattern"); custom.is_string()) {
      RE2 re(custom.as_string());
      if (!re.ok()) return InvalidArgumentError("field '" + m.key + "': pattern does not compile: " + re.error());
      re2::StringPiece found;
      if (RE2::PartialMatch(text, "(" + custom.as_string() + ")", &found)) match = std::string(found);
      kind = "pattern";
    } else {
      kind = KindOf(m.key, m.value);
      if (kind.empty()) {
        out.answer.set(m.key, Value::Null());
        continue;
      }
      re2::StringPiece found;
      if (RE2::PartialMatch(text, "(" + Compiled(kind).pattern() + ")", &found)) match = std::string(found);
    }
    used.set(m.key, kind);
    if (match.empty()) {
      out.answer.set(m.key, Value::Null());
    } else {
      out.answer.set(m.key, kind == "amount" ? AmountValue(match, m.value) : Value(match));
    }
  }
  out.detail = Value::MakeObject();
  out.detail.set("patterns", used);
  return out;
}

Result<LocalAnswer> TemplateReply(const engine::ActionContext& ctx) {
  Value t = ctx.settings.get("template");
  if (!t.is_string()) {
    return Status(StatusCode::kUnimplemented,
                  "generate_text without a model needs settings.template (the reply, which may use expressions)");
  }
  LocalAnswer out;
  out.answer = Value::MakeObject();
  out.answer.set("text", t.as_string());
  out.detail = Value::MakeObject();
  out.detail.set("template", true);
  return out;
}

}  // namespace weft::ai::internal
