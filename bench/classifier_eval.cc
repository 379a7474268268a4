// How honest the local classifier is on the support-triage data: accuracy,
// and whether its confidence can be trusted — a reliability table (for each
// band of confidence, how often the answer was right) and what the cascade
// keeps at a threshold. Measured two ways on data the classifier did not
// learn from: 5-fold cross-validation over the training set
// (examples/data/support-triage.train.jsonl) and the separate test set
// (examples/data/support-triage.test.jsonl). Deterministic; prints Markdown
// for bench/RESULTS.md.
//
//   build/release/bench/classifier_eval [--threshold 0.85]
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "triage_data.h"
#include "weft/ai/local_classifier.h"

namespace {

using weft::ai::LabelledText;
using weft::ai::LocalClassifier;
using weft::ai::Prediction;
using weft::testing::TriageMessage;

struct Outcome {
  Prediction prediction;
  bool right = false;
  std::string lang;
};

// Predictions for every message of `messages`, each by a classifier that did
// not see it: k folds by position (the files mix labels and languages).
std::vector<Outcome> CrossValidate(const std::vector<TriageMessage>& messages, const std::string& field, int k) {
  std::vector<Outcome> out(messages.size());
  const std::vector<LabelledText> all = weft::testing::TriageField(messages, field);
  for (int fold = 0; fold < k; ++fold) {
    std::vector<LabelledText> train;
    for (size_t i = 0; i < all.size(); ++i)
      if (static_cast<int>(i % k) != fold) train.push_back(all[i]);
    LocalClassifier c = LocalClassifier::Train(train).value();
    for (size_t i = 0; i < all.size(); ++i) {
      if (static_cast<int>(i % k) != fold) continue;
      out[i].prediction = c.Predict(all[i].text);
      out[i].right = out[i].prediction.label == all[i].label;
      out[i].lang = messages[i].lang;
    }
  }
  return out;
}

std::vector<Outcome> HeldOut(const std::vector<TriageMessage>& train, const std::vector<TriageMessage>& test,
                             const std::string& field) {
  LocalClassifier c = LocalClassifier::Train(weft::testing::TriageField(train, field)).value();
  std::vector<Outcome> out;
  const std::vector<LabelledText> cases = weft::testing::TriageField(test, field);
  for (size_t i = 0; i < cases.size(); ++i) {
    Outcome o;
    o.prediction = c.Predict(cases[i].text);
    o.right = o.prediction.label == cases[i].label;
    o.lang = test[i].lang;
    out.push_back(o);
  }
  return out;
}

double Share(int n, int of) { return of == 0 ? 0 : 100.0 * n / of; }

void PrintField(const char* how, const std::string& field, const std::vector<Outcome>& outcomes, double threshold) {
  int right = 0, kept = 0, kept_right = 0;
  for (const Outcome& o : outcomes) {
    right += o.right;
    if (o.prediction.confidence >= threshold) {
      ++kept;
      kept_right += o.right;
    }
  }
  std::printf("| %s | `%s` | %zu | %.1f %% | %.1f %% | %.1f %% |\n", how, field.c_str(), outcomes.size(),
              Share(right, static_cast<int>(outcomes.size())), Share(kept, static_cast<int>(outcomes.size())),
              Share(kept_right, kept));
}

void PrintReliability(const char* how, const std::string& field, const std::vector<Outcome>& outcomes) {
  const double edges[] = {0.0, 0.5, 0.7, 0.85, 0.95, 1.0001};
  std::printf("\n%s, `%s`:\n\n| confidence | answers | mean confidence | right |\n|---|---:|---:|---:|\n", how,
              field.c_str());
  for (size_t b = 0; b + 1 < std::size(edges); ++b) {
    int n = 0, right = 0;
    double sum = 0;
    for (const Outcome& o : outcomes) {
      if (o.prediction.confidence < edges[b] || o.prediction.confidence >= edges[b + 1]) continue;
      ++n;
      right += o.right;
      sum += o.prediction.confidence;
    }
    std::printf("| %.2f – %.2f | %d | %.3f | %.1f %% |\n", edges[b], std::min(edges[b + 1], 1.0), n,
                n == 0 ? 0 : sum / n, Share(right, n));
  }
}

// The triage step answers locally when both fields are sure enough: its
// confidence is their product, as the classify step computes it.
void PrintStep(const char* how, const std::vector<Outcome>& issue, const std::vector<Outcome>& urgency,
               double threshold) {
  int kept = 0, kept_right = 0, right = 0;
  for (size_t i = 0; i < issue.size(); ++i) {
    right += issue[i].right && urgency[i].right;
    if (issue[i].prediction.confidence * urgency[i].prediction.confidence >= threshold) {
      ++kept;
      kept_right += issue[i].right && urgency[i].right;
    }
  }
  std::printf("| %s | the step (both fields) | %zu | %.1f %% | %.1f %% | %.1f %% |\n", how, issue.size(),
              Share(right, static_cast<int>(issue.size())), Share(kept, static_cast<int>(issue.size())),
              Share(kept_right, kept));
}

void PrintLanguages(const std::vector<Outcome>& issue, const std::vector<Outcome>& urgency) {
  std::map<std::string, std::vector<int>> by;  // lang -> {n, issue right, urgency right}
  for (size_t i = 0; i < issue.size(); ++i) {
    auto& v = by[issue[i].lang];
    v.resize(3);
    ++v[0];
    v[1] += issue[i].right;
    v[2] += urgency[i].right;
  }
  std::printf("\nTest set by language:\n\n| language | messages | `issue_type` | `urgency` |\n|---|---:|---:|---:|\n");
  for (const auto& [lang, v] : by) {
    std::printf("| %s | %d | %.1f %% | %.1f %% |\n", lang.c_str(), v[0], Share(v[1], v[0]), Share(v[2], v[0]));
  }
}

}  // namespace

int main(int argc, char** argv) {
  double threshold = 0.85;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--threshold") == 0) threshold = std::stod(argv[i + 1]);
  const std::vector<TriageMessage> train = weft::testing::TriageTrainingSet();
  const std::vector<TriageMessage> test = weft::testing::TriageTestSet();
  std::printf("Training set: %zu messages; test set: %zu messages. Threshold %.2f.\n\n", train.size(), test.size(),
              threshold);
  std::printf("| measured on | field | messages | accuracy | kept at the threshold | right among kept |\n");
  std::printf("|---|---|---:|---:|---:|---:|\n");
  std::map<std::string, std::vector<Outcome>> cv, held;
  for (const std::string field : {"issue_type", "urgency"}) {
    cv[field] = CrossValidate(train, field, 5);
    held[field] = HeldOut(train, test, field);
    PrintField("5-fold cross-validation", field, cv[field], threshold);
    PrintField("test set", field, held[field], threshold);
  }
  PrintStep("5-fold cross-validation", cv["issue_type"], cv["urgency"], threshold);
  PrintStep("test set", held["issue_type"], held["urgency"], threshold);
  for (const std::string field : {"issue_type", "urgency"}) {
    PrintReliability("Cross-validation", field, cv[field]);
    PrintReliability("Test set", field, held[field]);
  }
  PrintLanguages(held["issue_type"], held["urgency"]);
  return 0;
}
