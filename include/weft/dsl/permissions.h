// What a workflow lets its actions do. Everything is denied until the
// workflow's `permissions:` section grants it:
//
//   permissions:
//     network:
//       hosts: [api.example.com, "*.slack.com", "127.0.0.1:8080"]
//       private: true          # loopback, private and link-local addresses
//     sql: { crm: read, ops: write }
//     email: true
//     scripts: true
//
// Actions declare what they need (ActionSpec::needs); the loader reports a
// missing grant, and the engine and the actions refuse again at run time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace weft::dsl {

// What an action may need; ActionSpec::needs is a mask of these.
enum Need : uint32_t {
  kNeedNetwork = 1u << 0,  // outbound HTTP (hosts checked per call)
  kNeedSql = 1u << 1,      // a configured SQL connection (write checked per query)
  kNeedEmail = 1u << 2,    // sending email
  kNeedScript = 1u << 3,   // running custom code
};

// "Network, email" for messages.
std::string NeedNames(uint32_t needs);

struct HostRule {
  std::string host;  // lower case; "*.example.com" matches subdomains; "*" any host
  int port = 0;      // 0 = any port
};

struct Permissions {
  std::vector<HostRule> hosts;
  // Whether the allowed hosts may resolve to loopback, private (RFC 1918,
  // unique-local) or link-local addresses. Off, such addresses are refused
  // whatever the host is called (the SSRF guard).
  bool private_network = false;
  std::map<std::string, bool, std::less<>> sql;  // connection -> write allowed
  bool email = false;
  bool scripts = false;

  // The needs this grants (network only when some host is allowed).
  uint32_t Granted() const;
  // Whether `host` (a name or an IP literal, without brackets) on `port` is
  // allowed. Matching ignores case and a trailing dot.
  bool AllowsHost(std::string_view host, int port) const;
  // Whether the workflow may use connection `name`, and write through it.
  bool AllowsSql(std::string_view name, bool write) const;
};

}  // namespace weft::dsl
