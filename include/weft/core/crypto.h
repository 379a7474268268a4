// Hashes, MACs and random secrets (OpenSSL's libcrypto).
#pragma once

#include <string>
#include <string_view>

namespace weft {

std::string Sha256(std::string_view data);  // 32 raw bytes
std::string Sha256Hex(std::string_view data);
// HMAC of `data` under `key`: "sha256" (default), "sha1" or "sha512"; raw
// bytes ("" for an unknown algorithm).
std::string Hmac(std::string_view key, std::string_view data, std::string_view algorithm = "sha256");
// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// `bytes` random bytes from the system's CSPRNG, hex-encoded.
std::string RandomHex(size_t bytes);

}  // namespace weft
