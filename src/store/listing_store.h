// Users, API keys and secrets read one at a time from the backend's listing
// of them: the single-record reads and the full lists are the same query
// (`Read*("")` = all), so a backend writes that query once.
#pragma once

#include <string>
#include <vector>

#include "weft/store/store.h"

namespace weft::store::internal {

class ListingStore : public Store {
 public:
  Result<ApiKeyRecord> GetApiKey(const std::string& id) override {
    WEFT_ASSIGN_OR_RETURN(std::vector<ApiKeyRecord> keys, ReadApiKeys(id));
    if (keys.empty()) return NotFoundError("no API key '" + id + "'");
    return keys.front();
  }
  Result<std::vector<ApiKeyRecord>> ListApiKeys() override { return ReadApiKeys(""); }

  Result<UserRecord> GetUser(const std::string& name) override {
    WEFT_ASSIGN_OR_RETURN(std::vector<UserRecord> users, ReadUsers(name));
    if (users.empty()) return NotFoundError("no user '" + name + "'");
    return users.front();
  }
  Result<std::vector<UserRecord>> ListUsers() override { return ReadUsers(""); }

  Result<SecretRecord> GetSecret(const std::string& name) override {
    WEFT_ASSIGN_OR_RETURN(std::vector<SecretRecord> secrets, ReadSecrets(name));
    if (secrets.empty()) return NotFoundError("no secret '" + name + "'");
    return secrets.front();
  }
  Result<std::vector<SecretRecord>> ListSecrets() override { return ReadSecrets(""); }

 protected:
  // One record by its key, or every one ("") in the listing's order.
  virtual Result<std::vector<ApiKeyRecord>> ReadApiKeys(const std::string& id) = 0;    // oldest first
  virtual Result<std::vector<UserRecord>> ReadUsers(const std::string& name) = 0;      // by name
  virtual Result<std::vector<SecretRecord>> ReadSecrets(const std::string& name) = 0;  // by name
};

}  // namespace weft::store::internal
