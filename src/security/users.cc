#include "weft/security/users.h"

namespace weft::security {

bool IsRoleName(std::string_view role) {
  return role == "admin" || role == "editor" || role == "operator" || role == "viewer";
}

Status CheckUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) return InvalidArgumentError("a user name has 1 to 64 characters");
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '@' || c == '-';
    if (!ok)
      return InvalidArgumentError("user name '" + std::string(name) + "' may only have letters, digits and . _ @ -");
  }
  return Status::Ok();
}

Status CheckGrants(const std::vector<std::string>& workflows) {
  if (workflows.size() > 1000) return InvalidArgumentError("at most 1000 workflow grants");
  for (const std::string& w : workflows) {
    if (w.empty() || w.size() > 200) return InvalidArgumentError("a workflow grant has 1 to 200 characters");
  }
  return Status::Ok();
}

Result<store::UserRecord> MakeUser(const std::string& name, const std::string& role, std::string_view password,
                                   std::vector<std::string> workflows, int64_t now_ms, const PasswordCost& cost) {
  WEFT_RETURN_IF_ERROR(CheckUserName(name));
  if (!IsRoleName(role)) {
    return InvalidArgumentError("unknown role '" + role + "' (admin, editor, operator, viewer)");
  }
  WEFT_RETURN_IF_ERROR(CheckGrants(workflows));
  WEFT_ASSIGN_OR_RETURN(std::string hash, HashPassword(password, cost));
  return store::UserRecord{name, role, std::move(hash), std::move(workflows), now_ms, now_ms};
}

}  // namespace weft::security
