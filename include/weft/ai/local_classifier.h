// The local model: a text classifier trained in milliseconds from the
// labelled examples a `classify` step lists, needing no network and costing
// nothing. It is a multinomial logistic regression over word unigrams and
// bigrams, character 3- to 5-grams of each word (the features fastText
// uses) and cues of urgency, impact and calm in six languages (text_cues.h),
// trained with a fixed seed so the same examples give the same model.
//
// Its confidence is meant to be believed: with enough examples (at least
// `folds` per label), training also runs a k-fold cross-validation over
// them, picks the weight of the cue features that predicts best, and maps
// the model's softmax probability to how often answers of that probability
// were right on examples the fold's model had not seen (isotonic
// regression, then the lower end of the interval each estimate is sure of,
// so the map under-promises rather than over-promises). Too few examples to
// cross-validate: the confidence is the softmax probability shrunk toward
// chance.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "weft/core/status.h"

namespace weft::ai {

namespace internal {
struct EncodedText;  // a text's features (local_classifier.cc)
}  // namespace internal

struct LabelledText {
  std::string text;
  std::string label;
};

struct Prediction {
  std::string label;
  double confidence = 0;  // calibrated (see above)
  double raw = 0;         // the model's softmax probability
};

class LocalClassifier {
 public:
  struct Options {
    int epochs = 30;
    double learning_rate = 0.5;
    double l2 = 1e-4;
    uint64_t seed = 0x5eed;
    int folds = 5;  // cross-validation for calibration; 0 = none
    // Weights of the cue features tried (the best by cross-validation is
    // kept); the first without cross-validation.
    std::vector<double> cue_weights = {1.0, 3.0, 5.0};
  };
  // InvalidArgument with fewer than two labels or an empty text.
  static Result<LocalClassifier> Train(const std::vector<LabelledText>& examples, const Options& options);
  static Result<LocalClassifier> Train(const std::vector<LabelledText>& examples) { return Train(examples, Options{}); }

  Prediction Predict(std::string_view text) const;
  const std::vector<std::string>& labels() const { return model_.labels; }
  // Whether the confidence was calibrated by cross-validation.
  bool calibrated() const { return !calibration_.empty(); }

  // The feature hashes of a text (exposed for tests).
  static std::vector<uint64_t> Features(std::string_view text);

 private:
  using Encoded = internal::EncodedText;
  struct Linear {
    std::vector<std::string> labels;
    std::unordered_map<uint64_t, uint32_t> index;  // feature hash -> row
    std::vector<float> weights;                    // row-major: rows x labels
    std::vector<float> bias;
    double cue_weight = 1;
    // The softmax probabilities of each label.
    std::vector<double> Scores(const Encoded& text) const;
  };
  // Trains on the examples `take` lists (indexes into `texts`/`labels`,
  // whose features have rows in an index of `rows_in_index`).
  static Result<Linear> Fit(const std::vector<Encoded>& texts, const std::vector<std::string>& labels,
                            const std::vector<size_t>& take, size_t rows_in_index, const Options& options,
                            double cue_weight);
  double Calibrate(double raw) const;

  Linear model_;
  // (softmax probability, calibrated confidence), increasing in both; the
  // confidence between two points is interpolated.
  std::vector<std::pair<double, double>> calibration_;
};

}  // namespace weft::ai
