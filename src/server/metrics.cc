#include "metrics.h"

#include <cstdio>

namespace weft::server {
namespace {

std::string Number(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.15g", v);
  return buf;
}

}  // namespace

void Metrics::DeclareCounter(std::string name, std::string help) {
  MutexLock lock(mu_);
  Family& f = families_[std::move(name)];
  f.type = Type::kCounter;
  f.help = std::move(help);
}

void Metrics::DeclareGauge(std::string name, std::string help) {
  MutexLock lock(mu_);
  Family& f = families_[std::move(name)];
  f.type = Type::kGauge;
  f.help = std::move(help);
}

void Metrics::DeclareHistogram(std::string name, std::string help, std::vector<double> buckets) {
  MutexLock lock(mu_);
  Family& f = families_[std::move(name)];
  f.type = Type::kHistogram;
  f.help = std::move(help);
  f.bounds = std::move(buckets);
}

std::string Metrics::RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first;
    out += "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += '}';
  return out;
}

void Metrics::Add(std::string_view name, const Labels& labels, double value) {
  const std::string key = RenderLabels(labels);
  MutexLock lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return;
  f->second.series[key].value += value;
}

void Metrics::Set(std::string_view name, const Labels& labels, double value) {
  const std::string key = RenderLabels(labels);
  MutexLock lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return;
  f->second.series[key].value = value;
}

void Metrics::Observe(std::string_view name, const Labels& labels, double value) {
  const std::string key = RenderLabels(labels);
  MutexLock lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return;
  Series& s = f->second.series[key];
  if (s.buckets.empty()) s.buckets.assign(f->second.bounds.size(), 0);
  s.value += value;
  ++s.count;
  for (size_t i = 0; i < f->second.bounds.size(); ++i) {
    if (value <= f->second.bounds[i]) {
      ++s.buckets[i];
      break;
    }
  }
}

std::string Metrics::Render() const {
  std::string out;
  MutexLock lock(mu_);
  for (const auto& [name, f] : families_) {
    const char* type = f.type == Type::kCounter ? "counter" : f.type == Type::kGauge ? "gauge" : "histogram";
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, s] : f.series) {
      if (f.type != Type::kHistogram) {
        out += name + labels + " " + Number(s.value) + "\n";
        continue;
      }
      // Bucket lines carry `le` after the series' own labels.
      const std::string open = labels.empty() ? "{" : labels.substr(0, labels.size() - 1) + ",";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f.bounds.size(); ++i) {
        cumulative += s.buckets[i];
        out += name + "_bucket" + open + "le=\"" + Number(f.bounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
      }
      out += name + "_bucket" + open + "le=\"+Inf\"} " + std::to_string(s.count) + "\n";
      out += name + "_sum" + labels + " " + Number(s.value) + "\n";
      out += name + "_count" + labels + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace weft::server
