// The local model: a text classifier trained in milliseconds from the
// labelled examples a `classify` step lists, needing no network and costing
// nothing. It is a multinomial logistic regression over word unigrams and
// bigrams and character 3- to 5-grams of each word (the features fastText
// uses), trained with a fixed seed so the same examples give the same model.
// Its confidence is the softmax probability of the label it picks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "weft/core/status.h"

namespace weft::ai {

struct LabelledText {
  std::string text;
  std::string label;
};

struct Prediction {
  std::string label;
  double confidence = 0;
};

class LocalClassifier {
 public:
  struct Options {
    int epochs = 60;
    double learning_rate = 0.5;
    double l2 = 1e-4;
    uint64_t seed = 0x5eed;
  };
  // InvalidArgument with fewer than two labels or an empty text.
  static Result<LocalClassifier> Train(const std::vector<LabelledText>& examples, const Options& options);
  static Result<LocalClassifier> Train(const std::vector<LabelledText>& examples) { return Train(examples, Options{}); }

  Prediction Predict(std::string_view text) const;
  const std::vector<std::string>& labels() const { return labels_; }

  // The feature hashes of a text (exposed for tests).
  static std::vector<uint64_t> Features(std::string_view text);

 private:
  std::vector<std::string> labels_;
  std::unordered_map<uint64_t, uint32_t> index_;  // feature hash -> row
  std::vector<float> weights_;                    // row-major: rows x labels
  std::vector<float> bias_;
};

}  // namespace weft::ai
