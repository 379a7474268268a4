// The runtime: what every weft process (the CLI's commands, `weft serve`)
// assembles before it can run a workflow — the configuration (weft.yaml),
// the store, the HTTP clients, the action registry with every built-in and
// configured action, secrets, and the engine. One Runtime::Open for all.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/engine/action.h"
#include "weft/engine/engine.h"
#include "weft/http/client.h"
#include "weft/knowledge/knowledge.h"
#include "weft/security/secrets.h"
#include "weft/store/store.h"

namespace weft::actions {
class SqlConnection;
}
namespace weft::ai {
class Models;
}

namespace weft::runtime {

// A database of weft.yaml's `connections:`: the sql action's connection and
// its settings (driver, path or url, with url_env resolved).
struct Connection {
  std::shared_ptr<actions::SqlConnection> sql;
  Value config;
};

// The configuration file and what it says.
struct Config {
  std::string path;  // empty when there is none
  Value value;       // an object (empty without a file)
};

// `path` when given; else $WEFT_CONFIG; else ./weft.yaml when present (no
// file is an empty configuration). Errors name the file.
Result<Config> ReadConfig(const std::string& path = "");

// $secret('NAME') (and a model's api_key_secret: NAME) read WEFT_SECRET_NAME.
std::optional<std::string> EnvSecrets(std::string_view name);

// The master key the configuration names: $WEFT_MASTER_KEY, else
// `secrets: {key_file: PATH}` (relative to the configuration's folder);
// nullopt when neither is set.
Result<std::optional<security::MasterKey>> LoadMasterKey(const Config& config);

// The database used when none is given: $WEFT_DB, else ./weft.db.
std::string DefaultDatabasePath();

// The database weft.yaml's `store:` section names: {postgres: URL} or
// {postgres_env: VARIABLE}, and the schema for weft's tables ({schema:
// NAME}); db is "" when it names none.
struct StoreConfig {
  std::string db;
  std::string schema;
};
Result<StoreConfig> ReadStoreConfig(const Config& config);

struct RuntimeOptions {
  std::string config_path;  // "" = ReadConfig's default
  // SQLite file, PostgreSQL URL (postgresql://...), ":memory:" (nothing
  // kept); "" = weft.yaml's `store:`, else DefaultDatabasePath().
  std::string db;
  std::string db_schema;  // PostgreSQL: the schema of weft's tables ("" = search_path)
  bool synchronous_normal = false;
  // Where call_workflow looks for a workflow that is not stored, by file
  // name (<dir>/<name>.yaml); "" = nowhere.
  std::string workflows_dir;
  // Called for every step the engine records (the CLI's live trace).
  std::function<void(const engine::StepEvent&)> on_step;
  // Threads running steps (the server also serves HTTP on them).
  int threads = 1;
  // Keep the engine's events (run, step, task) for live updates.
  bool events = false;
  // Execute runs here (EngineOptions::execute).
  bool execute = true;
  // Where uploads are kept (file_text reads them); "" = "<db>.data" beside
  // a database file, none for ":memory:". Knowledge bases (weft.yaml
  // `knowledge:`) keep their SQLite index and vectors there too.
  std::string data_dir;
  // Bring the knowledge bases in step with their folders while opening.
  bool sync_knowledge = true;
};

// The store `options.db` names, else weft.yaml's `store:` (no engine):
// reading runs and history.
Result<std::unique_ptr<store::Store>> OpenStore(const RuntimeOptions& options);

// What the actions of a deployment are built with (see
// RegisterConfiguredActions).
struct ActionsSetup {
  store::Store* store = nullptr;                    // the conversation log, AI answers' cache and spend
  engine::EventLog* events = nullptr;               // messages said, for live views
  std::string data_dir;                             // uploads (file_text); "" = none
  http::Client* model_http = nullptr;               // model providers (required)
  http::Client* workflow_http = nullptr;            // calls made on workflows' behalf (required)
  std::shared_ptr<knowledge::Knowledge> knowledge;  // the retrieve step's bases (may be null)
  std::function<std::optional<std::string>(std::string_view name)> secrets;  // api_key_secret
  // The model aliases, when already read (else read from the configuration
  // with model_http).
  std::shared_ptr<ai::Models> models;
  const Clock* clock = nullptr;
  // Open weft.yaml's `connections:` (false: the sql action knows none, as
  // in tests, where SQL steps are given their results).
  bool open_connections = true;
};

// Registers every built-in action and those weft.yaml configures (http,
// script, sql, email, the AI steps with its models, retrieve) into
// `registry`, as Runtime::Open does; for a process that builds registries
// of its own (`weft test`: one per case, with its store and its fake
// outside world). Opened SQL connections go to `connections` when given.
// Returns the model aliases.
Result<std::shared_ptr<ai::Models>> RegisterConfiguredActions(
    engine::ActionRegistry& registry, const Config& config, const ActionsSetup& setup,
    std::map<std::string, Connection, std::less<>>* connections = nullptr);

// Brings every knowledge base that has a folder in step with it, logging
// what changed and each file left out (and why).
Status SyncKnowledge(knowledge::Knowledge& knowledge);

class EventRelay;

class Runtime {
 public:
  // Reads the configuration, opens the store, registers the actions and
  // starts the engine.
  static Result<std::unique_ptr<Runtime>> Open(const RuntimeOptions& options);
  // Only the configuration and the actions (no store, no engine): what
  // validating a workflow needs.
  static Result<std::unique_ptr<Runtime>> OpenActions(const std::string& config_path = "");
  // The configuration and its knowledge bases (indexed in memory from their
  // folders, keyword search only) with every model call going to
  // `outside`, and no SQL connection opened: what `weft test` shares
  // between its cases.
  static Result<std::unique_ptr<Runtime>> OpenOffline(const std::string& config_path,
                                                      std::unique_ptr<http::Client> outside);

  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const Config& config() const { return config_; }
  // Where uploads are kept ("" = none).
  const std::string& data_dir() const { return data_dir_; }
  const engine::ActionRegistry& actions() const { return actions_; }
  store::Store& store() { return *store_; }
  engine::Engine& engine() { return *engine_; }
  // The engine's events; nullptr unless RuntimeOptions::events.
  engine::EventLog* events() { return events_.get(); }
  // A secret's value by name (webhook keys, $secret, model keys), nullopt
  // when unset: the store's sealed secrets, else WEFT_SECRET_<NAME>.
  std::optional<std::string> Secret(std::string_view name) const { return vault_->Get(name); }
  security::Vault& vault() { return *vault_; }
  // The knowledge bases of weft.yaml (`knowledge:`); never null (no bases
  // when none is configured).
  const std::shared_ptr<knowledge::Knowledge>& knowledge() const { return knowledge_; }
  // A connection of weft.yaml by name (nullptr when there is none).
  const Connection* connection(std::string_view name) const {
    auto it = connections_.find(name);
    return it == connections_.end() ? nullptr : &it->second;
  }

 private:
  Runtime() = default;
  // `knowledge_db`: where knowledge bases are indexed (an SQLite file,
  // ":memory:" or a PostgreSQL URL with `knowledge_schema`).
  Status RegisterActions(store::Store* store, const std::string& data_dir, const std::string& knowledge_db,
                         const std::string& knowledge_schema);

  Config config_;
  bool offline_ = false;
  std::string data_dir_;
  // The HTTP clients the actions use (declared before the actions, which
  // keep pointers to them): one for model providers, one for calls made on
  // workflows' behalf (the SSRF guard relies on their connections not
  // being shared).
  std::unique_ptr<http::Client> model_client_;
  std::unique_ptr<http::Client> workflow_client_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<security::Vault> vault_;
  std::map<std::string, Connection, std::less<>> connections_;
  std::shared_ptr<knowledge::Knowledge> knowledge_;  // before the actions, which search it
  engine::ActionRegistry actions_;
  std::unique_ptr<engine::EventLog> events_;  // before the engine, which publishes into it
  // Events to and from other processes on the same database.
  std::shared_ptr<EventRelay> relay_;
  std::unique_ptr<engine::Engine> engine_;
};

}  // namespace weft::runtime
