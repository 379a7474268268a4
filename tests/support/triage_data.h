// The support-triage example's labelled messages: the training set its
// classify step learns from (examples/data/support-triage.train.jsonl, which
// examples/support-triage.yaml lists as its examples) and the separate test
// set (examples/data/support-triage.test.jsonl), each message with its
// language. Read by the local classifier's tests, its benchmark and
// bench/classifier_eval; all define WEFT_SOURCE_DIR.
#pragma once

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "weft/ai/local_classifier.h"
#include "weft/core/json.h"

namespace weft::testing {

struct TriageMessage {
  std::string text;
  std::string issue_type;
  std::string urgency;
  std::string lang;
};

inline std::vector<TriageMessage> ReadTriageMessages(const std::string& relative) {
  std::ifstream in(std::string(WEFT_SOURCE_DIR) + "/" + relative);
  if (!in) throw std::runtime_error("cannot read " + relative);
  std::vector<TriageMessage> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Value v = ParseJson(line).value();
    out.push_back({v.get("text").as_string(), v.get("issue_type").as_string(), v.get("urgency").as_string(),
                   v.get("lang").as_string()});
  }
  return out;
}

inline std::vector<TriageMessage> TriageTrainingSet() {
  return ReadTriageMessages("examples/data/support-triage.train.jsonl");
}
inline std::vector<TriageMessage> TriageTestSet() {
  return ReadTriageMessages("examples/data/support-triage.test.jsonl");
}

// One field of a set: "issue_type" or "urgency".
inline std::vector<ai::LabelledText> TriageField(const std::vector<TriageMessage>& messages, const std::string& field) {
  std::vector<ai::LabelledText> out;
  for (const TriageMessage& m : messages) out.push_back({m.text, field == "issue_type" ? m.issue_type : m.urgency});
  return out;
}

inline std::vector<ai::LabelledText> TriageExamples(const std::string& field) {
  return TriageField(TriageTrainingSet(), field);
}
inline std::vector<ai::LabelledText> TriageTestSet(const std::string& field) {
  return TriageField(TriageTestSet(), field);
}

}  // namespace weft::testing
