#include "weft/security/secrets.h"

#include <sodium.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "weft/core/encoding.h"

namespace weft::security {

namespace {

// The associated data binds a sealed value to its name.
std::string AssociatedData(std::string_view name) { return "weft-secret:" + std::string(name); }

Status StartSodium() {
  if (sodium_init() < 0) return InternalError("libsodium could not start");
  return Status::Ok();
}

}  // namespace

Status CheckSecretName(std::string_view name) {
  if (name.empty() || name.size() > 128) return InvalidArgumentError("a secret's name has 1 to 128 characters");
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) {
      return InvalidArgumentError("secret name '" + std::string(name) + "' may only have letters, digits and '_'");
    }
  }
  return Status::Ok();
}

Result<MasterKey> MasterKey::Parse(std::string_view text) {
  text = TrimSpace(text);
  std::string raw;
  if (text.size() == 64) {
    raw.resize(32);
    size_t bin_len = 0;
    if (sodium_hex2bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), text.data(), text.size(), nullptr,
                       &bin_len, nullptr) != 0 ||
        bin_len != 32) {
      return InvalidArgumentError("the master key is not 64 hex digits");
    }
  } else if (std::optional<std::string> decoded = Base64Decode(text); decoded && decoded->size() == 32) {
    raw = std::move(*decoded);
  } else {
    return InvalidArgumentError("the master key must be 32 bytes, written as 64 hex digits or base64 (" +
                                std::to_string(text.size()) + " characters given)");
  }
  MasterKey key;
  key.key_ = std::move(raw);
  return key;
}

std::string MasterKey::Generate() {
  (void)StartSodium();
  unsigned char raw[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  crypto_aead_xchacha20poly1305_ietf_keygen(raw);
  std::string out = HexEncode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  sodium_memzero(raw, sizeof raw);
  return out;
}

Result<std::optional<MasterKey>> MasterKey::Load(const std::string& key_file) {
  WEFT_RETURN_IF_ERROR(StartSodium());
  if (const char* env = std::getenv("WEFT_MASTER_KEY"); env != nullptr && *env != '\0') {
    Result<MasterKey> key = Parse(env);
    if (!key.ok()) return key.status().WithContext("WEFT_MASTER_KEY");
    return std::optional<MasterKey>(std::move(*key));
  }
  if (key_file.empty()) return std::optional<MasterKey>();
  std::ifstream in(key_file, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read the master key file '" + key_file + "'");
  std::ostringstream text;
  text << in.rdbuf();
  Result<MasterKey> key = Parse(text.str());
  if (!key.ok()) return key.status().WithContext(key_file);
  return std::optional<MasterKey>(std::move(*key));
}

std::string MasterKey::Seal(std::string_view name, std::string_view value) const {
  const std::string ad = AssociatedData(name);
  std::string out(
      crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + value.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &written,
                                             reinterpret_cast<const unsigned char*>(value.data()), value.size(),
                                             reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr,
                                             nonce, reinterpret_cast<const unsigned char*>(key_.data()));
  out.resize(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + written);
  return Base64Encode(out);
}

Result<std::string> MasterKey::Open(std::string_view name, std::string_view sealed) const {
  const std::optional<std::string> raw = Base64Decode(sealed);
  constexpr size_t kOverhead = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (!raw || raw->size() < kOverhead) {
    return Status(StatusCode::kFailedPrecondition, "secret '" + std::string(name) + "' is not a sealed value");
  }
  const std::string ad = AssociatedData(name);
  const auto* nonce = reinterpret_cast<const unsigned char*>(raw->data());
  std::string out(raw->size() - kOverhead, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(out.data()), &written, nullptr,
                                                 nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                 raw->size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                 reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nonce,
                                                 reinterpret_cast<const unsigned char*>(key_.data())) != 0) {
    return Status(StatusCode::kUnauthenticated, "secret '" + std::string(name) +
                                                    "' does not open with this master key (another key sealed it, "
                                                    "or it was altered)");
  }
  out.resize(written);
  return out;
}

Vault::Vault(store::Store* store, std::optional<MasterKey> key) : store_(store), key_(std::move(key)) {}

Status Vault::Reload() {
  if (store_ == nullptr) return Status::Ok();
  WEFT_ASSIGN_OR_RETURN(std::vector<store::SecretRecord> stored, store_->ListSecrets());
  std::map<std::string, std::string, std::less<>> values;
  if (!stored.empty() && !key_) {
    return FailedPreconditionError(std::to_string(stored.size()) +
                                   " secrets are stored encrypted but no master key is set (WEFT_MASTER_KEY or "
                                   "secrets.key_file in weft.yaml)");
  }
  for (const store::SecretRecord& r : stored) {
    WEFT_ASSIGN_OR_RETURN(std::string value, key_->Open(r.name, r.sealed));
    values.emplace(r.name, std::move(value));
  }
  MutexLock lock(mu_);
  values_.swap(values);
  return Status::Ok();
}

std::optional<std::string> Vault::Get(std::string_view name) const {
  {
    MutexLock lock(mu_);
    auto it = values_.find(name);
    if (it != values_.end()) return it->second;
  }
  const char* v = std::getenv(("WEFT_SECRET_" + std::string(name)).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Status Vault::Set(const std::string& name, std::string_view value, int64_t now_ms) {
  WEFT_RETURN_IF_ERROR(CheckSecretName(name));
  if (store_ == nullptr) return FailedPreconditionError("there is no store to keep secrets in");
  if (!key_) {
    return FailedPreconditionError(
        "no master key: set WEFT_MASTER_KEY or secrets.key_file in weft.yaml (`weft secrets keygen` makes one)");
  }
  if (value.size() > size_t{64} * 1024) return InvalidArgumentError("a secret's value may have at most 64 KiB");
  WEFT_RETURN_IF_ERROR(store_->PutSecret({name, key_->Seal(name, value), now_ms}));
  MutexLock lock(mu_);
  values_[name] = std::string(value);
  return Status::Ok();
}

Status Vault::Delete(const std::string& name) {
  WEFT_RETURN_IF_ERROR(CheckSecretName(name));
  if (store_ == nullptr) return FailedPreconditionError("there is no store to keep secrets in");
  WEFT_RETURN_IF_ERROR(store_->DeleteSecret(name));
  MutexLock lock(mu_);
  values_.erase(name);
  return Status::Ok();
}

Result<std::vector<store::SecretRecord>> Vault::List() const {
  if (store_ == nullptr) return std::vector<store::SecretRecord>();
  WEFT_ASSIGN_OR_RETURN(std::vector<store::SecretRecord> stored, store_->ListSecrets());
  for (store::SecretRecord& r : stored) r.sealed.clear();
  return stored;
}

}  // namespace weft::security
