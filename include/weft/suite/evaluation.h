// Evaluating AI steps on labelled data (`weft eval-dataset`): a JSONL data
// set runs through one AI step (alone: nothing else of the workflow runs)
// or a whole workflow, on the models weft.yaml configures, and the answers
// are compared with the labels — accuracy per field, a confusion matrix,
// tokens, cost and latency percentiles — for one variant or several side by
// side (two models, two versions of a prompt), on the same data.
//
//   weft eval-dataset examples/data/support-triage.test.jsonl
//     --workflow examples/support-triage.yaml --step classify_issue
//     --input '{"message": text}' --fields issue_type,urgency --model fast --model smart
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "weft/core/status.h"
#include "weft/core/value.h"

namespace weft::suite {

struct EvalOptions {
  std::string data_path;               // JSONL: one labelled example per line
  std::vector<std::string> workflows;  // one or more versions of the workflow (prompt versions)
  std::vector<std::string> models;     // model aliases to compare ("" or none = the workflow's own)
  std::string step;                    // the AI step evaluated alone ("" = the whole workflow)
  // JSONata over each line giving the run's input; "" = the line's `input`
  // member when it has one, else the line.
  std::string input;
  // The labelled fields compared with the step's result (or the run's
  // outputs); empty = the line's `expected` members.
  std::vector<std::string> fields;
  std::string config_path;
  int jobs = 4;   // examples in flight
  int limit = 0;  // first N lines (0 = all)
};

struct FieldScore {
  int correct = 0;
  int total = 0;
  // expected label -> predicted label -> count
  std::map<std::string, std::map<std::string, int>> confusion;
};

struct VariantReport {
  std::string name;  // "<workflow> · <model>"
  int examples = 0;
  int failed = 0;       // runs or steps that failed (counted wrong)
  int all_correct = 0;  // every field right
  std::map<std::string, FieldScore> fields;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double cost = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  std::vector<std::string> errors;  // the first few failures, for the report
};

// Runs every variant over the data set. Errors: a data set or workflow that
// does not read, a step that is not an AI step of the workflow.
Result<std::vector<VariantReport>> EvaluateDataset(const EvalOptions& options);

// Markdown tables: accuracy per field side by side, cost, tokens and
// latency, then each field's confusion matrix per variant.
std::string EvalReport(const std::vector<VariantReport>& reports);
Value EvalReportJson(const std::vector<VariantReport>& reports);

}  // namespace weft::suite
