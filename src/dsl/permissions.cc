#include "weft/dsl/permissions.h"

#include <algorithm>
#include <cctype>

namespace weft::dsl {

std::string NeedNames(uint32_t needs) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {kNeedNetwork, "network"}, {kNeedSql, "sql"}, {kNeedEmail, "email"}, {kNeedScript, "scripts"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((needs & bit) == 0) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

uint32_t Permissions::Granted() const {
  uint32_t g = 0;
  if (!hosts.empty()) g |= kNeedNetwork;
  if (!sql.empty()) g |= kNeedSql;
  if (email) g |= kNeedEmail;
  if (scripts) g |= kNeedScript;
  return g;
}

namespace {

std::string Normalized(std::string_view host) {
  std::string h(host);
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!h.empty() && h.back() == '.') h.pop_back();
  return h;
}

bool HostMatches(const std::string& rule, const std::string& host) {
  if (rule == "*") return true;
  if (rule.size() > 2 && rule[0] == '*' && rule[1] == '.') {
    const std::string_view suffix = std::string_view(rule).substr(1);  // ".example.com"
    return host.size() > suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return rule == host;
}

}  // namespace

bool Permissions::AllowsHost(std::string_view host, int port) const {
  const std::string h = Normalized(host);
  if (h.empty()) return false;
  return std::any_of(hosts.begin(), hosts.end(),
                     [&](const HostRule& r) { return (r.port == 0 || r.port == port) && HostMatches(r.host, h); });
}

bool Permissions::AllowsSql(std::string_view name, bool write) const {
  auto it = sql.find(name);
  return it != sql.end() && (!write || it->second);
}

}  // namespace weft::dsl
