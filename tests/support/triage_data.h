// The support-triage example's labelled messages: the examples its classify
// step learns from (examples/support-triage.yaml) and its separate test set
// (examples/data/support-triage.test.jsonl). Read by the local classifier's
// tests and by its benchmark; both define WEFT_SOURCE_DIR.
#pragma once

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "weft/ai/local_classifier.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"

namespace weft::testing {

// `field` is the label to read: "issue_type" or "urgency".
inline std::vector<ai::LabelledText> TriageExamples(const std::string& field) {
  auto doc = dsl::LoadYamlFile(std::string(WEFT_SOURCE_DIR) + "/examples/support-triage.yaml");
  if (!doc.ok()) throw std::runtime_error(doc.status().ToString());
  std::vector<ai::LabelledText> out;
  for (const Value& e : doc->get("defs").get("classify_issue").get("settings").get("examples").as_array()) {
    out.push_back({e.get("text").as_string(), e.get(field).as_string()});
  }
  return out;
}

inline std::vector<ai::LabelledText> TriageTestSet(const std::string& field) {
  std::ifstream in(std::string(WEFT_SOURCE_DIR) + "/examples/data/support-triage.test.jsonl");
  if (!in) throw std::runtime_error("cannot read examples/data/support-triage.test.jsonl");
  std::vector<ai::LabelledText> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Value v = ParseJson(line).value();
    out.push_back({v.get("text").as_string(), v.get(field).as_string()});
  }
  return out;
}

}  // namespace weft::testing
