#include "access_commands.h"

#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <iostream>
#include <ostream>

#include "cli_support.h"
#include "weft/core/clock.h"
#include "weft/core/json.h"
#include "weft/security/audit.h"
#include "weft/security/secrets.h"
#include "weft/security/users.h"
#include "weft/server/server.h"

namespace weft::cli {
namespace {

int64_t Now() { return SystemClock::Instance().NowMillis(); }

// "2026-12-02T15:30:07Z"
std::string UtcText(int64_t ms) {
  const time_t t = static_cast<time_t>(ms / 1000);
  tm parts{};
  gmtime_r(&t, &parts);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buf;
}

// Who the audit log says did it.
std::string CliActor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user != nullptr && *user != '\0' ? user : std::to_string(::getuid()));
}

void AuditCli(store::Store& store, std::string action, std::string target, std::ostream& err,
              const Value& details = Value()) {
  Status s = security::Audit(store, Now(), CliActor(), std::move(action), std::move(target), details);
  if (!s.ok()) err << "weft: cannot write the audit log: " << s.message() << "\n";
}

// The store a command works on; nullptr (the error said) when it cannot open.
std::unique_ptr<store::Store> OpenFor(const AccessCommandOptions& options, const char* command, std::ostream& err) {
  Result<std::unique_ptr<store::Store>> store = runtime::OpenStore(RuntimeFor(options.store, ""));
  if (!store.ok()) {
    err << command << ": " << store.status().message() << "\n";
    return nullptr;
  }
  return std::move(store).value();
}

// One line from `in`; on a terminal, asked for without echo.
std::optional<std::string> ReadHidden(std::istream& in, std::ostream& err, const std::string& prompt) {
  const bool tty = &in == &std::cin && ::isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    err << prompt << std::flush;
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  const bool got = static_cast<bool>(std::getline(in, line));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    err << "\n";
  }
  if (!got) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int Fail(std::ostream& err, const char* command, const Status& s) {
  err << command << ": " << s.message() << "\n";
  return s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument ||
                 s.code() == StatusCode::kAlreadyExists || s.code() == StatusCode::kFailedPrecondition
             ? 2
             : 1;
}

// The vault of the database and weft.yaml's master key.
std::unique_ptr<security::Vault> OpenVault(const AccessCommandOptions& options, store::Store& store,
                                           const char* command, std::ostream& err) {
  Result<runtime::Config> config = runtime::ReadConfig(options.config);
  if (!config.ok()) {
    Fail(err, command, config.status());
    return nullptr;
  }
  Result<std::optional<security::MasterKey>> key = runtime::LoadMasterKey(*config);
  if (!key.ok()) {
    Fail(err, command, key.status());
    return nullptr;
  }
  return std::make_unique<security::Vault>(&store, std::move(*key));
}

}  // namespace

int CreateKey(const AccessCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft keys create", err);
  if (!store) return 2;
  Result<std::string> key =
      server::CreateApiKey(*store, options.name, options.role, options.ttl_days * 86'400'000, Now(), options.workflows);
  if (!key.ok()) return Fail(err, "weft keys create", key.status());
  Value details = Value::MakeObject();
  details.set("name", options.name);
  details.set("role", options.role);
  details.set("workflows", StringArray(options.workflows));
  AuditCli(*store, "key.create", "key:" + key->substr(3, key->find('_', 3) - 3), err, details);
  if (options.json) {
    Value o = Value::MakeObject();
    o.set("key", *key);
    o.set("name", options.name);
    o.set("role", options.role);
    o.set("workflows", StringArray(options.workflows));
    out << ToJson(o) << "\n";
  } else {
    out << *key << "\n";
    err << "this key is shown once: keep it now\n";
  }
  return 0;
}

int ListKeys(const AccessCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft keys list", err);
  if (!store) return 2;
  Result<std::vector<store::ApiKeyRecord>> keys = store->ListApiKeys();
  if (!keys.ok()) return Fail(err, "weft keys list", keys.status());
  for (const store::ApiKeyRecord& k : *keys) {
    out << k.id << "  " << k.role << "  " << k.name << (k.revoked_ms != 0 ? "  (revoked)" : "")
        << (k.expires_ms != 0 && k.expires_ms <= Now() ? "  (expired)" : "");
    for (size_t i = 0; i < k.workflows.size(); ++i) out << (i == 0 ? "  workflows: " : ", ") << k.workflows[i];
    out << "\n";
  }
  return 0;
}

int RevokeKey(const AccessCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft keys revoke", err);
  if (!store) return 2;
  if (Status s = store->RevokeApiKey(options.id, Now()); !s.ok()) return Fail(err, "weft keys revoke", s);
  AuditCli(*store, "key.revoke", "key:" + options.id, err);
  out << "revoked " << options.id << "\n";
  return 0;
}

int AddUser(const AccessCommandOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft users add", err);
  if (!store) return 2;
  std::optional<std::string> password = ReadHidden(in, err, "password for " + options.name + ": ");
  if (!password) return Fail(err, "weft users add", InvalidArgumentError("no password given on standard input"));
  Result<store::UserRecord> user = security::MakeUser(options.name, options.role, *password, options.workflows, Now());
  if (!user.ok()) return Fail(err, "weft users add", user.status());
  if (Status s = store->PutUser(*user, false); !s.ok()) return Fail(err, "weft users add", s);
  Value details = Value::MakeObject();
  details.set("role", options.role);
  AuditCli(*store, "user.add", "user:" + options.name, err, details);
  out << "added " << options.name << " (" << options.role << ")\n";
  return 0;
}

int ListUsers(const AccessCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft users list", err);
  if (!store) return 2;
  Result<std::vector<store::UserRecord>> users = store->ListUsers();
  if (!users.ok()) return Fail(err, "weft users list", users.status());
  for (const store::UserRecord& u : *users) {
    out << u.name << "  " << u.role;
    for (size_t i = 0; i < u.workflows.size(); ++i) out << (i == 0 ? "  workflows: " : ", ") << u.workflows[i];
    out << "\n";
  }
  return 0;
}

int ChangePassword(const AccessCommandOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft users passwd", err);
  if (!store) return 2;
  Result<store::UserRecord> user = store->GetUser(options.name);
  if (!user.ok()) return Fail(err, "weft users passwd", user.status());
  std::optional<std::string> password = ReadHidden(in, err, "new password for " + options.name + ": ");
  if (!password) return Fail(err, "weft users passwd", InvalidArgumentError("no password given on standard input"));
  Result<std::string> hash = security::HashPassword(*password);
  if (!hash.ok()) return Fail(err, "weft users passwd", hash.status());
  user->password_hash = *hash;
  user->updated_ms = Now();
  if (Status s = store->PutUser(*user, true); !s.ok()) return Fail(err, "weft users passwd", s);
  Value details = Value::MakeObject();
  details.set("changed", Value::MakeArray({Value("password")}));
  AuditCli(*store, "user.change", "user:" + options.name, err, details);
  out << "changed the password of " << options.name << "\n";
  return 0;
}

int RemoveUser(const AccessCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft users remove", err);
  if (!store) return 2;
  if (Status s = store->DeleteUser(options.name); !s.ok()) return Fail(err, "weft users remove", s);
  AuditCli(*store, "user.remove", "user:" + options.name, err);
  out << "removed " << options.name << "\n";
  return 0;
}

int SetSecret(const AccessCommandOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft secrets set", err);
  if (!store) return 2;
  std::unique_ptr<security::Vault> vault = OpenVault(options, *store, "weft secrets set", err);
  if (!vault) return 2;
  std::optional<std::string> value = ReadHidden(in, err, "value of " + options.name + ": ");
  if (!value) return Fail(err, "weft secrets set", InvalidArgumentError("no value given on standard input"));
  if (Status s = vault->Set(options.name, *value, Now()); !s.ok()) return Fail(err, "weft secrets set", s);
  AuditCli(*store, "secret.set", "secret:" + options.name, err);
  out << "set " << options.name << " (a running server reads it on SIGHUP)\n";
  return 0;
}

int ListSecrets(const AccessCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft secrets list", err);
  if (!store) return 2;
  Result<std::vector<store::SecretRecord>> secrets = store->ListSecrets();
  if (!secrets.ok()) return Fail(err, "weft secrets list", secrets.status());
  for (const store::SecretRecord& r : *secrets) out << r.name << "\n";
  return 0;
}

int DeleteSecret(const AccessCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft secrets delete", err);
  if (!store) return 2;
  if (Status s = security::CheckSecretName(options.name); !s.ok()) return Fail(err, "weft secrets delete", s);
  if (Status s = store->DeleteSecret(options.name); !s.ok()) return Fail(err, "weft secrets delete", s);
  AuditCli(*store, "secret.delete", "secret:" + options.name, err);
  out << "deleted " << options.name << "\n";
  return 0;
}

int GenerateMasterKey(std::ostream& out, std::ostream& err) {
  out << security::MasterKey::Generate() << "\n";
  err << "keep this key outside the database (WEFT_MASTER_KEY, or a file named by secrets.key_file): "
         "secrets sealed with it cannot be read without it\n";
  return 0;
}

int ListAudit(const AccessCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft audit list", err);
  if (!store) return 2;
  Result<std::vector<store::AuditEntry>> entries = store->ListAudit(options.after, options.limit);
  if (!entries.ok()) return Fail(err, "weft audit list", entries.status());
  for (const store::AuditEntry& e : *entries) {
    out << e.seq << "  " << UtcText(e.at_ms) << "  " << e.actor << "  " << e.action << "  " << e.target
        << (e.details == "{}" ? "" : "  " + e.details) << "\n";
  }
  return 0;
}

int VerifyAudit(const AccessCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::unique_ptr<store::Store> store = OpenFor(options, "weft audit verify", err);
  if (!store) return 2;
  Result<security::AuditVerdict> v = security::VerifyAudit(*store, options.head);
  if (!v.ok()) return Fail(err, "weft audit verify", v.status());
  if (!v->ok) {
    out << "BROKEN at entry " << v->broken_seq << ": " << v->problem << "\n";
    return 1;
  }
  out << "ok: " << v->entries << " entries, head " << v->head_hash << "\n";
  return 0;
}

}  // namespace weft::cli
