#include "weft/ai/local_classifier.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

namespace weft::ai {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t Hash(std::string_view s, uint64_t h = kFnvOffset) {
  for (unsigned char c : s) h = (h ^ c) * kFnvPrime;
  return h;
}

// Words: runs of letters and digits (bytes >= 0x80 count as letters, so
// UTF-8 words stay whole), lowercased.
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80 || c == '\'') {
      if (c != '\'') cur += static_cast<char>(std::tolower(c));
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
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

std::vector<uint64_t> LocalClassifier::Features(std::string_view text) {
  std::vector<uint64_t> out;
  std::vector<std::string> words = Words(text);
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    out.push_back(Hash(w, Hash("w:")));
    if (i + 1 < words.size()) out.push_back(Hash(words[i + 1], Hash(w, Hash("b:"))));
    const std::string marked = "<" + w + ">";
    for (size_t n = 3; n <= 5; ++n) {
      if (marked.size() < n) break;
      for (size_t j = 0; j + n <= marked.size(); ++j)
        out.push_back(Hash(std::string_view(marked).substr(j, n), Hash("c:")));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<LocalClassifier> LocalClassifier::Train(const std::vector<LabelledText>& examples, const Options& options) {
  LocalClassifier c;
  std::map<std::string, uint32_t> label_ids;
  for (const LabelledText& e : examples) {
    if (e.label.empty()) return InvalidArgumentError("a training example has no label");
    label_ids.emplace(e.label, 0);
  }
  if (label_ids.size() < 2) {
    return InvalidArgumentError("the local classifier needs examples of at least two labels (got " +
                                std::to_string(label_ids.size()) + ")");
  }
  for (auto& [label, id] : label_ids) {
    id = static_cast<uint32_t>(c.labels_.size());
    c.labels_.push_back(label);
  }
  const size_t k = c.labels_.size();
  // Each example as feature rows.
  std::vector<std::vector<uint32_t>> rows(examples.size());
  std::vector<uint32_t> targets(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    for (uint64_t f : Features(examples[i].text)) {
      auto [it, inserted] = c.index_.emplace(f, static_cast<uint32_t>(c.index_.size()));
      rows[i].push_back(it->second);
    }
    if (rows[i].empty()) return InvalidArgumentError("training example " + std::to_string(i + 1) + " has no words");
    targets[i] = label_ids[examples[i].label];
  }
  c.weights_.assign(c.index_.size() * k, 0.0f);
  c.bias_.assign(k, 0.0f);

  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(options.seed);
  std::vector<double> scores(k);
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    const double lr = options.learning_rate * (1.0 - static_cast<double>(epoch) / options.epochs);
    for (size_t i : order) {
      const std::vector<uint32_t>& row = rows[i];
      const double scale = 1.0 / std::sqrt(static_cast<double>(row.size()));
      for (size_t l = 0; l < k; ++l) {
        double s = c.bias_[l];
        for (uint32_t f : row) s += c.weights_[f * k + l] * scale;
        scores[l] = s;
      }
      Softmax(scores);
      for (size_t l = 0; l < k; ++l) {
        const double grad = scores[l] - (l == targets[i] ? 1.0 : 0.0);
        c.bias_[l] -= static_cast<float>(lr * grad);
        for (uint32_t f : row) {
          float& w = c.weights_[f * k + l];
          w -= static_cast<float>(lr * (grad * scale + options.l2 * w));
        }
      }
    }
  }
  return c;
}

Prediction LocalClassifier::Predict(std::string_view text) const {
  const size_t k = labels_.size();
  std::vector<double> scores(bias_.begin(), bias_.end());
  std::vector<uint64_t> features = Features(text);
  // Scale as in training, by all of the text's features: words never seen
  // in training make the model less sure, not more.
  const double scale = features.empty() ? 0.0 : 1.0 / std::sqrt(static_cast<double>(features.size()));
  for (uint64_t f : features) {
    auto it = index_.find(f);
    if (it == index_.end()) continue;
    for (size_t l = 0; l < k; ++l) scores[l] += weights_[it->second * k + l] * scale;
  }
  Softmax(scores);
  const size_t best = static_cast<size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  return Prediction{labels_[best], scores[best]};
}

}  // namespace weft::ai
