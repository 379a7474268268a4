// Who may do what, from the machine's shell: `weft keys create|list|revoke`,
// `weft users add|list|passwd|remove`, `weft secrets set|list|delete|keygen`,
// `weft audit list|verify`. They work on the database directly (also while
// a server runs on it) and write the audit log as "cli:<login>".
#pragma once

#include <cstdint>
#include <iosfwd>
#include <istream>
#include <string>
#include <vector>

#include "workflow_commands.h"

namespace weft::cli {

struct AccessCommandOptions {
  StoreOptions store;
  std::string config;  // weft.yaml (secrets: the master key's file)
  std::string name;    // key's purpose, user name, secret name
  std::string role;
  std::vector<std::string> workflows;  // a user's or a key's grants
  int64_t ttl_days = 0;
  std::string id;  // key to revoke
  bool json = false;
  std::string head;  // audit verify: a head hash kept earlier
  int64_t after = 0;
  int limit = 100;
};

int CreateKey(const AccessCommandOptions& options, std::ostream& out, std::ostream& err);
int ListKeys(const AccessCommandOptions& options, std::ostream& out, std::ostream& err);
int RevokeKey(const AccessCommandOptions& options, std::ostream& out, std::ostream& err);

// Passwords and secret values are read from `in` (one line; a terminal
// asks without echo), never from the command line.
int AddUser(const AccessCommandOptions& options, std::istream& in, std::ostream& out, std::ostream& err);
int ListUsers(const AccessCommandOptions& options, std::ostream& out, std::ostream& err);
int ChangePassword(const AccessCommandOptions& options, std::istream& in, std::ostream& out, std::ostream& err);
int RemoveUser(const AccessCommandOptions& options, std::ostream& out, std::ostream& err);

int SetSecret(const AccessCommandOptions& options, std::istream& in, std::ostream& out, std::ostream& err);
int ListSecrets(const AccessCommandOptions& options, std::ostream& out, std::ostream& err);
int DeleteSecret(const AccessCommandOptions& options, std::ostream& out, std::ostream& err);
int GenerateMasterKey(std::ostream& out, std::ostream& err);

int ListAudit(const AccessCommandOptions& options, std::ostream& out, std::ostream& err);
// Exit 0 when the chain holds, 1 when it is broken (saying where).
int VerifyAudit(const AccessCommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace weft::cli
