#include "weft/ai/local_classifier.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "text_cues.h"

namespace weft::ai {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t Hash(std::string_view s, uint64_t h = kFnvOffset) {
  for (unsigned char c : s) h = (h ^ c) * kFnvPrime;
  return h;
}

void Softmax(std::vector<double>& v) {
  const double top = *std::max_element(v.begin(), v.end());
  double sum = 0;
  for (double& x : v) {
    x = std::exp(x - top);
    sum += x;
  }
  for (double& x : v) x /= sum;
}

}  // namespace

// A text as its two kinds of features: its words (unigrams, bigrams and
// character n-grams) and its cues; sorted, without repeats.
struct internal::EncodedText {
  std::vector<uint64_t> words;
  std::vector<uint64_t> cues;
  // Rows of the features in the training's index (set by Train).
  std::vector<uint32_t> word_rows;
  std::vector<uint32_t> cue_rows;
  // Each feature's value: the text's features together have unit length,
  // cues weigh `cue_weight` times a word feature.
  double WordValue() const {
    return 1.0 / std::sqrt(static_cast<double>(std::max<size_t>(1, words.size() + cues.size())));
  }
};

namespace {

using Encoded = internal::EncodedText;

void SortUnique(std::vector<uint64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

Encoded Encode(std::string_view text) {
  Encoded e;
  std::vector<std::string> words = internal::FoldedWords(text);
  for (const std::string& cue : internal::CueTokens(words, text)) e.cues.push_back(Hash(cue, Hash("q:")));
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    e.words.push_back(Hash(w, Hash("w:")));
    if (i + 1 < words.size()) e.words.push_back(Hash(words[i + 1], Hash(w, Hash("b:"))));
    const std::string marked = "<" + w + ">";
    for (size_t n = 3; n <= 5; ++n) {
      if (marked.size() < n) break;
      for (size_t j = 0; j + n <= marked.size(); ++j)
        e.words.push_back(Hash(std::string_view(marked).substr(j, n), Hash("c:")));
    }
  }
  SortUnique(e.words);
  SortUnique(e.cues);
  return e;
}

// Wilson's lower bound of a proportion `right`/`n` at one standard
// deviation: what the data supports with some margin.
double LowerBound(double right, double n) {
  if (n <= 0) return 0;
  constexpr double z = 1.0;
  const double p = right / n;
  const double centre = p + z * z / (2 * n);
  const double margin = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n));
  return std::max(0.0, (centre - margin) / (1 + z * z / n));
}

// Out-of-fold answers: (softmax probability of the label chosen, right?).
struct FoldAnswer {
  double raw;
  bool right;
};

// The confidence map from out-of-fold answers: isotonic regression (pool
// adjacent violators) of rightness on probability, each pool's estimate
// lowered to its lower bound, then made non-decreasing from the right (so
// lowering only).
std::vector<std::pair<double, double>> FitCalibration(std::vector<FoldAnswer> answers) {
  std::sort(answers.begin(), answers.end(), [](const FoldAnswer& a, const FoldAnswer& b) { return a.raw < b.raw; });
  struct Pool {
    double right = 0, n = 0, raw_sum = 0;
    double Mean() const { return right / n; }
  };
  std::vector<Pool> pools;
  for (const FoldAnswer& a : answers) {
    pools.push_back({a.right ? 1.0 : 0.0, 1.0, a.raw});
    while (pools.size() >= 2 && pools[pools.size() - 2].Mean() >= pools.back().Mean()) {
      Pool last = pools.back();
      pools.pop_back();
      pools.back().right += last.right;
      pools.back().n += last.n;
      pools.back().raw_sum += last.raw_sum;
    }
  }
  std::vector<std::pair<double, double>> points;
  points.reserve(pools.size());
  for (const Pool& p : pools) points.emplace_back(p.raw_sum / p.n, LowerBound(p.right, p.n));
  for (size_t i = points.size(); i-- > 1;) points[i - 1].second = std::min(points[i - 1].second, points[i].second);
  return points;
}

}  // namespace

std::vector<uint64_t> LocalClassifier::Features(std::string_view text) {
  Encoded e = Encode(text);
  std::vector<uint64_t> out = e.words;
  out.insert(out.end(), e.cues.begin(), e.cues.end());
  return out;
}

Result<LocalClassifier::Linear> LocalClassifier::Fit(const std::vector<Encoded>& texts,
                                                     const std::vector<std::string>& labels,
                                                     const std::vector<size_t>& take, size_t rows_in_index,
                                                     const Options& options, double cue_weight) {
  Linear c;
  c.cue_weight = cue_weight;
  std::map<std::string, uint32_t> label_ids;
  for (size_t i : take) label_ids.emplace(labels[i], 0);
  if (label_ids.size() < 2) {
    return InvalidArgumentError("the local classifier needs examples of at least two labels (got " +
                                std::to_string(label_ids.size()) + ")");
  }
  for (auto& [label, id] : label_ids) {
    id = static_cast<uint32_t>(c.labels.size());
    c.labels.push_back(label);
  }
  const size_t k = c.labels.size();
  // Each example as (feature row, value) pairs, rows of the index Train
  // made for all the texts.
  std::vector<std::vector<std::pair<uint32_t, float>>> rows(take.size());
  std::vector<uint32_t> targets(take.size());
  for (size_t r = 0; r < take.size(); ++r) {
    const Encoded& e = texts[take[r]];
    const double value = e.WordValue();
    for (uint32_t f : e.word_rows) rows[r].emplace_back(f, static_cast<float>(value));
    for (uint32_t f : e.cue_rows) rows[r].emplace_back(f, static_cast<float>(value * cue_weight));
    targets[r] = label_ids[labels[take[r]]];
  }
  c.weights.assign(rows_in_index * k, 0.0f);
  c.bias.assign(k, 0.0f);

  std::vector<size_t> order(take.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(options.seed);
  std::vector<double> scores(k);
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    const double lr = options.learning_rate * (1.0 - static_cast<double>(epoch) / options.epochs);
    for (size_t i : order) {
      const auto& row = rows[i];
      for (size_t l = 0; l < k; ++l) {
        double s = c.bias[l];
        for (const auto& [f, v] : row) s += c.weights[f * k + l] * v;
        scores[l] = s;
      }
      Softmax(scores);
      for (size_t l = 0; l < k; ++l) {
        const double grad = scores[l] - (l == targets[i] ? 1.0 : 0.0);
        c.bias[l] -= static_cast<float>(lr * grad);
        for (const auto& [f, v] : row) {
          float& w = c.weights[f * k + l];
          w -= static_cast<float>(lr * (grad * v + options.l2 * w));
        }
      }
    }
  }
  return c;
}

std::vector<double> LocalClassifier::Linear::Scores(const Encoded& text) const {
  const size_t k = labels.size();
  std::vector<double> scores(bias.begin(), bias.end());
  // Values as in training, over all of the text's features: words never
  // seen in training make the model less sure, not more.
  const double value = text.WordValue();
  auto add = [&](uint32_t row, double v) {
    for (size_t l = 0; l < k; ++l) scores[l] += weights[row * k + l] * v;
  };
  if (!text.word_rows.empty() || !text.cue_rows.empty()) {  // a training text: its rows are known
    for (uint32_t f : text.word_rows) add(f, value);
    for (uint32_t f : text.cue_rows) add(f, value * cue_weight);
  } else {
    auto add_hash = [&](uint64_t f, double v) {
      if (auto it = index.find(f); it != index.end()) add(it->second, v);
    };
    for (uint64_t f : text.words) add_hash(f, value);
    for (uint64_t f : text.cues) add_hash(f, value * cue_weight);
  }
  Softmax(scores);
  return scores;
}

Result<LocalClassifier> LocalClassifier::Train(const std::vector<LabelledText>& examples, const Options& options) {
  if (options.cue_weights.empty()) return InvalidArgumentError("Options.cue_weights is empty");
  // Every text is encoded once, for all the models trained below.
  std::vector<Encoded> texts;
  std::vector<std::string> labels;
  std::map<std::string, size_t> per_label;
  for (size_t i = 0; i < examples.size(); ++i) {
    if (examples[i].label.empty()) return InvalidArgumentError("a training example has no label");
    texts.push_back(Encode(examples[i].text));
    if (texts.back().words.empty()) {
      return InvalidArgumentError("training example " + std::to_string(i + 1) + " has no words");
    }
    labels.push_back(examples[i].label);
    ++per_label[examples[i].label];
  }
  // One index of every feature of every text, shared by all the models.
  std::unordered_map<uint64_t, uint32_t> index;
  for (Encoded& e : texts) {
    auto row = [&](uint64_t f) { return index.emplace(f, static_cast<uint32_t>(index.size())).first->second; };
    for (uint64_t f : e.words) e.word_rows.push_back(row(f));
    for (uint64_t f : e.cues) e.cue_rows.push_back(row(f));
  }
  size_t fewest = SIZE_MAX;
  for (const auto& [label, n] : per_label) fewest = std::min(fewest, n);
  const size_t folds = options.folds >= 2 ? static_cast<size_t>(options.folds) : 0;

  LocalClassifier c;
  double cue_weight = options.cue_weights[0];
  if (folds != 0 && per_label.size() >= 2 && fewest >= folds && examples.size() >= 4 * folds) {
    // k-fold cross-validation: for each cue weight, every example answered
    // by a model that did not learn from it. The weight whose answers give
    // the right labels the most probability wins; its answers calibrate.
    double best_loss = HUGE_VAL;
    std::vector<FoldAnswer> best_answers;
    for (double weight : options.cue_weights) {
      std::vector<FoldAnswer> answers;
      double loss = 0;
      for (size_t fold = 0; fold < folds; ++fold) {
        std::vector<size_t> train;
        for (size_t i = 0; i < examples.size(); ++i)
          if (i % folds != fold) train.push_back(i);
        WEFT_ASSIGN_OR_RETURN(Linear m, Fit(texts, labels, train, index.size(), options, weight));
        for (size_t i = fold; i < examples.size(); i += folds) {
          const std::vector<double> p = m.Scores(texts[i]);
          const size_t best = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
          double p_true = 1e-6;
          for (size_t l = 0; l < p.size(); ++l)
            if (m.labels[l] == labels[i]) p_true = std::max(p_true, p[l]);
          loss -= std::log(p_true);
          answers.push_back({p[best], m.labels[best] == labels[i]});
        }
      }
      if (loss < best_loss) {
        best_loss = loss;
        cue_weight = weight;
        best_answers = std::move(answers);
      }
    }
    c.calibration_ = FitCalibration(std::move(best_answers));
  }
  std::vector<size_t> all(examples.size());
  std::iota(all.begin(), all.end(), 0);
  WEFT_ASSIGN_OR_RETURN(c.model_, Fit(texts, labels, all, index.size(), options, cue_weight));
  c.model_.index = std::move(index);
  return c;
}

double LocalClassifier::Calibrate(double raw) const {
  if (calibration_.empty()) {
    // Nothing to measure against: halfway between the model's probability
    // and chance.
    const double chance = 1.0 / static_cast<double>(model_.labels.size());
    return raw - (raw - chance) / 2;
  }
  if (raw <= calibration_.front().first) return calibration_.front().second;
  if (raw >= calibration_.back().first) return calibration_.back().second;
  auto hi = std::upper_bound(calibration_.begin(), calibration_.end(), raw,
                             [](double r, const std::pair<double, double>& p) { return r < p.first; });
  auto lo = hi - 1;
  const double t = (raw - lo->first) / (hi->first - lo->first);
  return lo->second + t * (hi->second - lo->second);
}

Prediction LocalClassifier::Predict(std::string_view text) const {
  const std::vector<double> scores = model_.Scores(Encode(text));
  const size_t best = static_cast<size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  return Prediction{model_.labels[best], Calibrate(scores[best]), scores[best]};
}

}  // namespace weft::ai
