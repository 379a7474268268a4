// Counters and histograms, written in Prometheus' text format (/metrics).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/core/mutex.h"

namespace weft::server {

// Labels as name/value pairs, in the order they are written.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  // Declares a metric family (before use). Histograms take their bucket
  // bounds (in the metric's unit, seconds for durations).
  void DeclareCounter(std::string name, std::string help);
  void DeclareGauge(std::string name, std::string help);
  void DeclareHistogram(std::string name, std::string help, std::vector<double> buckets);

  void Add(std::string_view name, const Labels& labels, double value = 1);
  void Set(std::string_view name, const Labels& labels, double value);
  void Observe(std::string_view name, const Labels& labels, double value);
  // Replaces every series of a gauge with `values` (what is true now).
  void SetAll(std::string_view name, const std::vector<std::pair<Labels, double>>& values);

  std::string Render() const;

 private:
  enum class Type : uint8_t { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;  // counter, gauge; histogram: the sum
    uint64_t count = 0;
    std::vector<uint64_t> buckets;  // cumulative at render
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<double> bounds;
    std::map<std::string, Series, std::less<>> series;  // by rendered labels
  };
  static std::string RenderLabels(const Labels& labels);

  mutable Mutex mu_;
  std::map<std::string, Family, std::less<>> families_ WEFT_GUARDED_BY(mu_);
};

}  // namespace weft::server
