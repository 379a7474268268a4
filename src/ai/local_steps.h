// The AI steps without a network: classification by the local classifier
// trained from the step's examples, extraction by patterns, and template
// replies. Each returns the step's answer before schema validation, or
// Unimplemented when the step cannot be answered locally.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

#include "weft/ai/local_classifier.h"
#include "weft/engine/action.h"

namespace weft::ai::internal {

struct LocalAnswer {
  Value answer;           // the answer (for classify: with `confidence`)
  double confidence = 1;  // for the cascade
  Value detail;           // what the local model did
};

// Trained classifiers, by the examples they were trained from.
class ClassifierCache {
 public:
  Result<std::shared_ptr<const LocalClassifier>> Get(const std::vector<LabelledText>& examples);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const LocalClassifier>> trained_;
};

// A few-shot example is {text|input, output}, {text|input, label}, or
// {text|input, <field>: <value>, ...}: its text.
Value ExampleText(const Value& example);

// `schema` is the classify plan's schema (labels or the author's enums).
Result<LocalAnswer> ClassifyLocally(const engine::ActionContext& ctx, const Value& schema, ClassifierCache& cache);
Result<LocalAnswer> ExtractByPatterns(const engine::ActionContext& ctx);
Result<LocalAnswer> TemplateReply(const engine::ActionContext& ctx);

}  // namespace weft::ai::internal
