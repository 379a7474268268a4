// Which addresses outbound calls from workflows may reach: the SSRF guard
// refuses loopback, private, link-local, shared (CGNAT), unspecified,
// multicast and reserved ranges, and IPv6 forms that embed such an IPv4
// address (mapped, NAT64).
#pragma once

#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace weft::http {

// False for the ranges above; `address` is a sockaddr_in or sockaddr_in6.
bool IsPublicAddress(const sockaddr* address);

// For an IP literal ("10.0.0.1", "::1", without brackets): whether it is
// public; nullopt when `host` is no IP literal (a name).
std::optional<bool> IsPublicIpLiteral(std::string_view host);

// "10.0.0.1" / "::1".
std::string AddressText(const sockaddr* address);

}  // namespace weft::http
