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

void Metrics::SetAll(std::string_view name, const std::vector<std::pair<Labels, double>>& values) {
  std::map<std::string, Series, std::less<>> series;
  for (const auto& [labels, value] : values) series[RenderLabels(labels)].value = value;
  MutexLock lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) it->second.series.swap(series);
}

std::string Metrics::Render() const {
  std::string out;
  MutexLock lock(mu_);
  for (const auto& [name, f] : families_) {
    const char* type = f.type == Type::kCounter ? "counter" : f.type == Type::kGauge ? "gauge" : "histogram";
    out.append("# HELP ").append(name).append(" ").append(f.help).append("\n# TYPE ").append(name).append(" ");
    out.append(type).append("\n");
    for (const auto& [labels, s] : f.series) {
      if (f.type != Type::kHistogram) {
        out.append(name).append(labels).append(" ").append(Number(s.value)).append("\n");
        continue;
      }
      // Bucket lines carry `le` after the series' own labels.
      const std::string open = labels.empty() ? "{" : labels.substr(0, labels.size() - 1) + ",";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f.bounds.size(); ++i) {
        cumulative += s.buckets[i];
        out.append(name).append("_bucket").append(open).append("le=\"").append(Number(f.bounds[i]));
        out.append("\"} ").append(std::to_string(cumulative)).append("\n");
      }
      out.append(name).append("_bucket").append(open).append("le=\"+Inf\"} ");
      out.append(std::to_string(s.count)).append("\n");
      out.append(name).append("_sum").append(labels).append(" ").append(Number(s.value)).append("\n");
      out.append(name).append("_count").append(labels).append(" ").append(std::to_string(s.count)).append("\n");
    }
  }
  return out;
}

}  // namespace weft::server
