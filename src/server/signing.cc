// Tokens the server signs and later checks: approval links, chat
// conversations.
#include "server_impl.h"
#include "weft/core/crypto.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"

namespace weft::server {
namespace {

std::string Base64Url(std::string_view s) {
  std::string b = Base64Encode(s);
  for (char& c : b) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

std::optional<std::string> FromBase64Url(std::string_view text) {
  std::string s(text);
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4 != 0) s += '=';
  return Base64Decode(s);
}

}  // namespace

Result<std::string> SigningKey(store::Store& store, std::string_view purpose) {
  const std::string name = std::string(purpose) + ":key";
  WEFT_ASSIGN_OR_RETURN(std::optional<std::string> key, store.GetState(name));
  if (key) return *key;
  (void)store.InsertState(name, RandomHex(32));  // another process may win: read what is stored
  WEFT_ASSIGN_OR_RETURN(key, store.GetState(name));
  if (!key) return InternalError("no signing key for " + std::string(purpose));
  return *key;
}

std::string SignClaims(const std::string& key, const Value& claims) {
  const std::string payload = Base64Url(ToJson(claims));
  return payload + "." + Base64Url(Hmac(key, payload));
}

Result<Value> VerifyClaims(const std::string& key, std::string_view token) {
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos || token.size() > 4096) return InvalidArgumentError("malformed token");
  const std::string_view payload = token.substr(0, dot);
  std::optional<std::string> mac = FromBase64Url(token.substr(dot + 1));
  if (!mac || !ConstantTimeEquals(*mac, Hmac(key, payload))) return NotFoundError("not a token weft signed");
  std::optional<std::string> json = FromBase64Url(payload);
  if (!json) return InvalidArgumentError("malformed token");
  WEFT_ASSIGN_OR_RETURN(Value claims, ParseJson(*json));
  if (!claims.is_object()) return InvalidArgumentError("malformed token");
  return claims;
}

}  // namespace weft::server
