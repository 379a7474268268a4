// The console's users: names, roles and grants checked the same way by the
// API and by `weft users`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "weft/core/status.h"
#include "weft/security/passwords.h"
#include "weft/store/store.h"

namespace weft::security {

// admin, editor, operator, viewer.
bool IsRoleName(std::string_view role);
// 1 to 64 of letters, digits and ". _ @ -".
Status CheckUserName(std::string_view name);
// Workflow names or patterns with '*'.
Status CheckGrants(const std::vector<std::string>& workflows);
// A new user record with the password hashed (slow: Argon2id).
Result<store::UserRecord> MakeUser(const std::string& name, const std::string& role, std::string_view password,
                                   std::vector<std::string> workflows, int64_t now_ms, const PasswordCost& cost = {});

}  // namespace weft::security
