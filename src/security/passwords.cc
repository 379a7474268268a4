#include "weft/security/passwords.h"

#include <argon2.h>
#include <sodium.h>

#include <string>
#include <vector>

namespace weft::security {

namespace {
constexpr uint32_t kSaltBytes = 16;
constexpr uint32_t kHashBytes = 32;
}  // namespace

Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() < 8) return InvalidArgumentError("a password needs at least 8 characters");
  if (password.size() > 1024) return InvalidArgumentError("a password may have at most 1024 characters");
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost) {
  WEFT_RETURN_IF_ERROR(CheckPasswordPolicy(password));
  if (sodium_init() < 0) return InternalError("libsodium could not start");
  unsigned char salt[kSaltBytes];
  randombytes_buf(salt, sizeof salt);
  std::vector<char> encoded(
      argon2_encodedlen(cost.passes, cost.memory_kib, cost.lanes, kSaltBytes, kHashBytes, Argon2_id) + 1);
  const int rc = argon2id_hash_encoded(cost.passes, cost.memory_kib, cost.lanes, password.data(), password.size(), salt,
                                       sizeof salt, kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return InternalError(std::string("hashing the password: ") + argon2_error_message(rc));
  return std::string(encoded.data());
}

bool VerifyPassword(const std::string& encoded, std::string_view password) {
  if (encoded.rfind("$argon2id$", 0) != 0 || password.size() > 1024) return false;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace weft::security
