// Secrets kept in the store, encrypted at rest with a master key
// (libsodium: XChaCha20-Poly1305 with the secret's name as associated data,
// so a sealed value moved to another name does not open). The master key
// comes from $WEFT_MASTER_KEY or a key file; it is never stored.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/mutex.h"
#include "weft/core/status.h"
#include "weft/store/store.h"

namespace weft::security {

// A secret's name: letters, digits and '_', 1 to 128 of them.
Status CheckSecretName(std::string_view name);

class MasterKey {
 public:
  // 32 bytes, written as 64 hex digits or base64.
  static Result<MasterKey> Parse(std::string_view text);
  // A new random key, as 64 hex digits.
  static std::string Generate();
  // $WEFT_MASTER_KEY, else the file `key_file` ("" = none); nullopt when
  // neither is set. Errors name where the bad key came from.
  static Result<std::optional<MasterKey>> Load(const std::string& key_file);

  std::string Seal(std::string_view name, std::string_view value) const;
  // Unauthenticated when the key is not the one that sealed it, or the
  // sealed text was altered.
  Result<std::string> Open(std::string_view name, std::string_view sealed) const;

 private:
  std::string key_;  // 32 raw bytes
};

// The process's secrets: those in the store (opened once at load and on
// Reload) and, as a fallback, WEFT_SECRET_<NAME> from the environment.
// Reads are from memory, safe from any thread.
class Vault {
 public:
  // `store` may be nullptr (environment only).
  Vault(store::Store* store, std::optional<MasterKey> key);

  // Reads and opens every stored secret. Fails (naming the secret) when one
  // does not open, or when secrets are stored but there is no master key.
  Status Reload();
  std::optional<std::string> Get(std::string_view name) const;

  // Seals and stores a value (and keeps it for Get).
  Status Set(const std::string& name, std::string_view value, int64_t now_ms);
  Status Delete(const std::string& name);
  // Names and update times of stored secrets, never their values.
  Result<std::vector<store::SecretRecord>> List() const;

  bool has_key() const { return key_.has_value(); }

 private:
  store::Store* const store_;
  const std::optional<MasterKey> key_;
  mutable Mutex mu_;
  std::map<std::string, std::string, std::less<>> values_ WEFT_GUARDED_BY(mu_);
};

}  // namespace weft::security
