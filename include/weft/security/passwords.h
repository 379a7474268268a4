// Passwords of the console's users: Argon2id (libargon2) in its encoded
// form ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"), so the parameters
// travel with each hash and can be raised later without a migration.
#pragma once

#include <string>
#include <string_view>

#include "weft/core/status.h"

namespace weft::security {

// Cost parameters. The defaults follow OWASP's recommendation for Argon2id
// (19 MiB, 2 passes, 1 lane): about 30 ms on one core of a small machine.
struct PasswordCost {
  uint32_t memory_kib = 19 * 1024;
  uint32_t passes = 2;
  uint32_t lanes = 1;
};

// InvalidArgument for a password shorter than 8 or longer than 1,024 bytes.
Status CheckPasswordPolicy(std::string_view password);
Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost = {});
// False for a wrong password and for a hash that is not Argon2id.
bool VerifyPassword(const std::string& encoded, std::string_view password);

}  // namespace weft::security
