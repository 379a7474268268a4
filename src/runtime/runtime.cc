#include "weft/runtime/runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <map>

#include "event_relay.h"
#include "weft/actions/builtin.h"
#include "weft/actions/email.h"
#include "weft/actions/file_text.h"
#include "weft/actions/http.h"
#include "weft/actions/retrieve.h"
#include "weft/actions/script.h"
#include "weft/actions/sql.h"
#include "weft/ai/actions.h"
#include "weft/ai/embeddings.h"
#include "weft/core/log.h"
#include "weft/dsl/loader.h"
#include "weft/store/memory_store.h"
#include "weft/store/postgres_store.h"
#include "weft/store/sqlite_store.h"

namespace weft::runtime {
namespace {

// A misspelt key must not be ignored (a password that silently stays unset).
Status CheckKeys(const Value& section, std::string_view where, std::initializer_list<std::string_view> known) {
  for (const auto& m : section.members()) {
    if (std::find(known.begin(), known.end(), m.key) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) list.append(list.empty() ? "" : ", ").append(k);
    return InvalidArgumentError(std::string(where) + ": unknown key '" + m.key + "' (" + list + ")");
  }
  return Status::Ok();
}

// `<where>.<key>`, when given, must be a whole number from 1 to `max`.
template <typename T>
Status WholeNumber(const Value& section, std::string_view where, const char* key, double max, T& out) {
  const Value v = section.get(key);
  if (v.is_undefined()) return Status::Ok();
  if (v.is_number() && v.as_number() >= 1 && v.as_number() <= max && v.as_number() == std::floor(v.as_number())) {
    out = static_cast<T>(v.as_number());
    return Status::Ok();
  }
  return InvalidArgumentError(std::string(where) + "." + key + " must be a whole number from 1 to " +
                              std::to_string(static_cast<int64_t>(max)));
}

// The actions whose servers and connections the configuration names: http,
// script, sql (`connections:`), email (`email:`).
Status RegisterDeploymentActions(engine::ActionRegistry& actions, const Value& config, http::Client* workflows,
                                 std::map<std::string, Connection, std::less<>>& opened, bool open_connections) {
  WEFT_RETURN_IF_ERROR(actions::RegisterHttpActions(actions, {.client = workflows}));
  WEFT_RETURN_IF_ERROR(actions::RegisterScriptAction(actions));
  // SQL connections (weft.yaml `connections:`), opened lazily by their threads.
  std::map<std::string, std::shared_ptr<actions::SqlConnection>, std::less<>> connections;
  if (Value c = config.get("connections"); c.is_object() && open_connections) {
    for (const auto& m : c.members()) {
      if (!m.value.is_object()) return InvalidArgumentError("connections." + m.key + " must be a mapping");
      WEFT_RETURN_IF_ERROR(CheckKeys(m.value, "connections." + m.key, {"driver", "path", "url", "url_env"}));
      Value conn = Value::MakeObject();  // a copy to add to (Values share what they hold)
      for (const auto& field : m.value.members()) conn.set(field.key, field.value);
      // A password stays out of weft.yaml: url_env names a variable.
      if (Value env = conn.get("url_env"); env.is_string()) {
        const char* url = std::getenv(env.as_string().c_str());
        if (url == nullptr) {
          return InvalidArgumentError("connections." + m.key + ": environment variable " + env.as_string() +
                                      " is not set");
        }
        conn.set("url", std::string(url));
      }
      WEFT_ASSIGN_OR_RETURN(connections[m.key], actions::OpenSqlConnection(m.key, conn));
      opened[m.key] = Connection{connections[m.key], conn};
    }
  }
  WEFT_RETURN_IF_ERROR(actions::RegisterSqlAction(actions, std::move(connections)));
  // The SMTP server (weft.yaml `email:`); the password from an environment variable.
  actions::SmtpOptions smtp;
  if (Value e = config.get("email"); e.is_defined()) {
    if (!e.is_object()) return InvalidArgumentError("email must be a mapping");
    WEFT_RETURN_IF_ERROR(
        CheckKeys(e, "email", {"url", "tls", "username", "password_env", "from", "ca_file", "timeout_ms", "threads"}));
    Status wrong;
    auto text = [&](const char* key, std::string& out) {
      if (Value v = e.get(key); v.is_string()) {
        out = v.as_string();
      } else if (v.is_defined() && wrong.ok()) {
        wrong = InvalidArgumentError(std::string("email.") + key + " must be a string");
      }
    };
    text("url", smtp.url);
    text("tls", smtp.tls);
    text("username", smtp.username);
    text("from", smtp.from);
    text("ca_file", smtp.ca_file);
    WEFT_RETURN_IF_ERROR(wrong);
    WEFT_RETURN_IF_ERROR(WholeNumber(e, "email", "timeout_ms", 86'400'000, smtp.timeout_ms));  // a day
    WEFT_RETURN_IF_ERROR(WholeNumber(e, "email", "threads", 64, smtp.threads));
    if (Value env = e.get("password_env"); env.is_string()) {
      const char* pw = std::getenv(env.as_string().c_str());
      if (pw == nullptr) return InvalidArgumentError("email: environment variable " + env.as_string() + " is not set");
      smtp.password = pw;
    }
  }
  return actions::RegisterEmailAction(actions, smtp);
}

// Looks for a child workflow file in `dir`.
std::function<Result<std::shared_ptr<const dsl::Workflow>>(const std::string&)> FileResolver(
    std::string dir, const engine::ActionRegistry* actions) {
  return [dir = std::move(dir), actions](const std::string& name) -> Result<std::shared_ptr<const dsl::Workflow>> {
    for (const char* ext : {".yaml", ".yml"}) {
      std::filesystem::path p = std::filesystem::path(dir) / (name + ext);
      if (std::filesystem::exists(p)) return dsl::LoadWorkflowFile(p.string(), *actions);
    }
    return NotFoundError("no workflow named '" + name + "' is stored, and there is no " + name + ".yaml in " + dir);
  };
}

// Limits of every expression a workflow evaluates (weft.yaml `expressions:`).
Status ReadExpressionLimits(const Value& config, engine::EngineOptions& eo) {
  const Value e = config.get("expressions");
  if (e.is_undefined()) return Status::Ok();
  if (!e.is_object()) return InvalidArgumentError("expressions must be a mapping");
  WEFT_RETURN_IF_ERROR(CheckKeys(e, "expressions", {"timeout_ms", "max_memory_mb"}));
  int64_t memory_mb = eo.expression_max_memory_bytes >> 20;
  WEFT_RETURN_IF_ERROR(WholeNumber(e, "expressions", "timeout_ms", 86'400'000, eo.expression_timeout_ms));
  WEFT_RETURN_IF_ERROR(WholeNumber(e, "expressions", "max_memory_mb", 1 << 20, memory_mb));
  eo.expression_max_memory_bytes = memory_mb << 20;
  return Status::Ok();
}

// How this process's engine shares runs with others (weft.yaml `engine:`).
Status ReadEngineSettings(const Value& config, engine::EngineOptions& eo) {
  const Value e = config.get("engine");
  if (e.is_undefined()) return Status::Ok();
  if (!e.is_object()) return InvalidArgumentError("engine must be a mapping");
  WEFT_RETURN_IF_ERROR(CheckKeys(e, "engine", {"lease_ms", "claim_batch"}));
  WEFT_RETURN_IF_ERROR(WholeNumber(e, "engine", "lease_ms", 3'600'000, eo.lease_ms));
  WEFT_RETURN_IF_ERROR(WholeNumber(e, "engine", "claim_batch", 100'000, eo.claim_batch));
  if (eo.lease_ms < 1000) return InvalidArgumentError("engine.lease_ms must be at least 1000");
  return Status::Ok();
}

}  // namespace

Result<Config> ReadConfig(const std::string& path) {
  std::string file = path;
  if (file.empty()) {
    const char* env = std::getenv("WEFT_CONFIG");
    file = env != nullptr && *env != '\0' ? env : "weft.yaml";
    if (env == nullptr && !std::filesystem::exists(file)) return Config{"", Value::MakeObject()};
  }
  WEFT_ASSIGN_OR_RETURN(Value value, dsl::LoadYamlFile(file));
  if (value.is_null() || value.is_undefined()) value = Value::MakeObject();  // an empty file
  if (!value.is_object()) return InvalidArgumentError(file + ": the configuration must be a mapping");
  return Config{file, value};
}

std::optional<std::string> EnvSecrets(std::string_view name) {
  const char* v = std::getenv(("WEFT_SECRET_" + std::string(name)).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Result<std::optional<security::MasterKey>> LoadMasterKey(const Config& config) {
  std::string key_file;
  const Value section = config.value.get("secrets");
  if (section.is_defined()) {
    const std::string where = config.path.empty() ? "secrets" : config.path + ": secrets";
    if (!section.is_object()) return InvalidArgumentError(where + ": expected a mapping");
    WEFT_RETURN_IF_ERROR(CheckKeys(section, where, {"key_file"}));
    const Value file = section.get("key_file");
    if (file.is_defined()) {
      if (!file.is_string()) return InvalidArgumentError(where + ".key_file: expected a path");
      std::filesystem::path path = file.as_string();
      if (path.is_relative() && !config.path.empty()) path = std::filesystem::path(config.path).parent_path() / path;
      key_file = path.string();
    }
  }
  return security::MasterKey::Load(key_file);
}

std::string DefaultDatabasePath() {
  const char* env = std::getenv("WEFT_DB");
  return env != nullptr && *env != '\0' ? env : "weft.db";
}

Result<StoreConfig> ReadStoreConfig(const Config& config) {
  StoreConfig out;
  const Value section = config.value.get("store");
  if (section.is_undefined()) return out;
  if (!section.is_object()) return InvalidArgumentError("store: expected a mapping ({postgres: URL})");
  WEFT_RETURN_IF_ERROR(CheckKeys(section, "store", {"postgres", "postgres_env", "schema"}));
  if (const Value url = section.get("postgres"); url.is_defined()) {
    if (!url.is_string() || !store::IsPostgresUrl(url.as_string())) {
      return InvalidArgumentError("store.postgres: expected a URL postgresql://user:password@host:port/database");
    }
    out.db = url.as_string();
  } else if (const Value env = section.get("postgres_env"); env.is_defined()) {
    if (!env.is_string()) return InvalidArgumentError("store.postgres_env: expected the name of a variable");
    const char* url = std::getenv(env.as_string().c_str());
    if (url == nullptr || !store::IsPostgresUrl(url)) {
      return InvalidArgumentError("store.postgres_env: $" + env.as_string() + " does not hold a URL postgresql://...");
    }
    out.db = url;
  }
  if (const Value schema = section.get("schema"); schema.is_defined()) {
    if (!schema.is_string() || out.db.empty()) {
      return InvalidArgumentError("store.schema: expected a schema name, beside store.postgres");
    }
    out.schema = schema.as_string();
  }
  return out;
}

Result<std::unique_ptr<store::Store>> OpenStore(const RuntimeOptions& options) {
  if (options.db.empty()) {
    // weft.yaml's `store:` names the database when --db does not.
    WEFT_ASSIGN_OR_RETURN(Config config, ReadConfig(options.config_path));
    Result<StoreConfig> configured = ReadStoreConfig(config);
    if (!configured.ok())
      return config.path.empty() ? configured.status() : configured.status().WithContext(config.path);
    if (!configured->db.empty()) {
      RuntimeOptions named = options;
      named.db = configured->db;
      named.db_schema = configured->schema;
      return OpenStore(named);
    }
  }
  std::string path = options.db.empty() ? DefaultDatabasePath() : options.db;
  if (path == ":memory:") return store::NewMemoryStore();
  if (store::IsPostgresUrl(path)) {
    store::PostgresOptions pg;
    pg.url = path;
    pg.schema = options.db_schema;
    pg.pool = std::clamp(options.threads + 2, 2, 16);
    return store::OpenPostgresStore(pg);
  }
  store::SqliteOptions sqlite;
  sqlite.path = path;
  sqlite.synchronous_full = !options.synchronous_normal;
  return store::OpenSqliteStore(sqlite);
}

Runtime::~Runtime() {
  // The engine goes first: it stops runs that use the actions and the store.
  engine_.reset();
  if (relay_) relay_->Stop();
}

// The built-in actions, the configured ones and the AI steps, with the
// model aliases of the configuration (`models:`); the store (when given)
// keeps the conversation log, caches AI answers and counts their cost.
Result<std::shared_ptr<ai::Models>> RegisterConfiguredActions(
    engine::ActionRegistry& registry, const Config& config, const ActionsSetup& setup,
    std::map<std::string, Connection, std::less<>>* connections) {
  std::map<std::string, Connection, std::less<>> unused;
  Status s = actions::RegisterBuiltinActions(registry, setup.store, setup.events);
  if (s.ok()) s = actions::RegisterFileTextAction(registry, setup.data_dir);
  if (s.ok()) {
    s = RegisterDeploymentActions(registry, config.value, setup.workflow_http, connections ? *connections : unused,
                                  setup.open_connections);
  }
  std::shared_ptr<ai::Models> models = setup.models;
  if (s.ok()) {
    Result<std::shared_ptr<ai::Models>> configured =
        models ? Result<std::shared_ptr<ai::Models>>(models)
               : ai::Models::FromConfig(config.value.get("models"), setup.model_http, ai::ProcessEnv(), setup.clock,
                                        setup.secrets);
    if (configured.ok()) models = *configured;
    s = configured.ok()
            ? ai::RegisterAiActions(registry, {.models = models, .store = setup.store, .clock = setup.clock})
            : configured.status();
  }
  if (s.ok()) s = actions::RegisterRetrieveActions(registry, setup.knowledge, setup.data_dir);
  if (!s.ok()) return config.path.empty() ? s : s.WithContext(config.path);
  return models;
}

Status Runtime::RegisterActions(store::Store* store, const std::string& data_dir, const std::string& knowledge_db,
                                const std::string& knowledge_schema) {
  if (!model_client_) model_client_ = http::NewCurlClient();
  if (!workflow_client_) workflow_client_ = http::NewCurlClient();
  // Knowledge bases: the index beside the runs (its own SQLite file, or
  // the same PostgreSQL database), embeddings through model aliases.
  Result<std::vector<knowledge::BaseConfig>> bases = knowledge::ReadBaseConfigs(
      config_.value.get("knowledge"),
      config_.path.empty() ? "" : std::filesystem::path(config_.path).parent_path().string());
  if (!bases.ok()) return config_.path.empty() ? bases.status() : bases.status().WithContext(config_.path);
  if (offline_ && !bases->empty()) {
    // Embedding a document would call a model: keyword search only.
    for (knowledge::BaseConfig& b : *bases) b.embedding.clear();
  }
  security::Vault* vault = vault_.get();
  ActionsSetup setup;
  setup.store = store;
  setup.events = events_.get();
  setup.data_dir = data_dir;
  setup.model_http = model_client_.get();
  setup.workflow_http = workflow_client_.get();
  setup.secrets = [vault](std::string_view name) { return vault->Get(name); };
  setup.open_connections = !offline_;
  // The models come with the actions; the knowledge bases need them (for
  // embeddings) and the retrieve step needs the knowledge bases: models
  // first, from the same configuration.
  Result<std::shared_ptr<ai::Models>> models = ai::Models::FromConfig(config_.value.get("models"), model_client_.get(),
                                                                      ai::ProcessEnv(), nullptr, setup.secrets);
  if (!models.ok()) return config_.path.empty() ? models.status() : models.status().WithContext(config_.path);
  knowledge::KnowledgeOptions ko;
  ko.database = knowledge_db;  // opened at first need when weft.yaml declares no base
  ko.schema = knowledge_schema;
  if (!data_dir.empty()) ko.vector_dir = data_dir + "/vectors";
  ko.bases = std::move(*bases);
  http::Client* http = model_client_.get();
  ko.embedders = [m = *models, http](std::string_view alias) { return ai::NewEmbedder(*m, alias, http); };
  Result<std::unique_ptr<knowledge::Knowledge>> opened = knowledge::Knowledge::Open(std::move(ko));
  if (!opened.ok()) return config_.path.empty() ? opened.status() : opened.status().WithContext(config_.path);
  knowledge_ = std::move(*opened);
  setup.knowledge = knowledge_;
  setup.models = *models;
  return RegisterConfiguredActions(actions_, config_, setup, &connections_).status();
}

Status SyncKnowledge(knowledge::Knowledge& k) {
  for (const std::string& name : k.bases()) {
    const std::optional<knowledge::BaseConfig> base = k.base(name);
    if (!base || base->folder.empty()) continue;
    Result<knowledge::SyncReport> report = k.Sync(name);
    if (!report.ok()) return report.status().WithContext("knowledge." + name);
    for (const std::string& problem : report->problems) {
      std::string line = "knowledge.";
      line.append(name).append(": left out ").append(problem);
      Log(LogLevel::kWarning, line);
    }
    if (report->added + report->updated + report->removed > 0) {
      Value fields = Value::MakeObject();
      fields.set("added", static_cast<double>(report->added));
      fields.set("updated", static_cast<double>(report->updated));
      fields.set("removed", static_cast<double>(report->removed));
      fields.set("unchanged", static_cast<double>(report->unchanged));
      fields.set("chunks", static_cast<double>(report->chunks));
      Log(LogLevel::kInfo, "knowledge." + name + " indexed", fields);
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Runtime>> Runtime::OpenOffline(const std::string& config_path,
                                                      std::unique_ptr<http::Client> outside) {
  std::unique_ptr<Runtime> rt(new Runtime());
  WEFT_ASSIGN_OR_RETURN(rt->config_, ReadConfig(config_path));
  rt->offline_ = true;
  rt->vault_ = std::make_unique<security::Vault>(nullptr, std::nullopt);
  rt->model_client_ = std::move(outside);
  rt->workflow_client_ = http::NewCurlClient();  // never used: each test case brings its own
  WEFT_RETURN_IF_ERROR(rt->RegisterActions(nullptr, "", ":memory:", ""));
  Status synced = SyncKnowledge(*rt->knowledge_);
  if (!synced.ok()) return rt->config_.path.empty() ? synced : synced.WithContext(rt->config_.path);
  return rt;
}

Result<std::unique_ptr<Runtime>> Runtime::OpenActions(const std::string& config_path) {
  std::unique_ptr<Runtime> rt(new Runtime());
  WEFT_ASSIGN_OR_RETURN(rt->config_, ReadConfig(config_path));
  rt->vault_ = std::make_unique<security::Vault>(nullptr, std::nullopt);
  WEFT_RETURN_IF_ERROR(rt->RegisterActions(nullptr, "", ":memory:", ""));
  return rt;
}

Result<std::unique_ptr<Runtime>> Runtime::Open(const RuntimeOptions& options) {
  std::unique_ptr<Runtime> rt(new Runtime());
  WEFT_ASSIGN_OR_RETURN(rt->config_, ReadConfig(options.config_path));
  RuntimeOptions opened = options;
  if (opened.db.empty()) {
    // `--db` wins over weft.yaml's `store:`, which wins over $WEFT_DB.
    Result<StoreConfig> configured = ReadStoreConfig(rt->config_);
    if (!configured.ok()) {
      return rt->config_.path.empty() ? configured.status() : configured.status().WithContext(rt->config_.path);
    }
    opened.db = configured->db;
    opened.db_schema = configured->schema;
  }
  WEFT_ASSIGN_OR_RETURN(rt->store_, OpenStore(opened));
  WEFT_ASSIGN_OR_RETURN(std::optional<security::MasterKey> key, LoadMasterKey(rt->config_));
  rt->vault_ = std::make_unique<security::Vault>(rt->store_.get(), std::move(key));
  WEFT_RETURN_IF_ERROR(rt->vault_->Reload());
  const std::string db = opened.db.empty() ? DefaultDatabasePath() : opened.db;
  // Beside a database file; in the working folder for a server database
  // (processes on several machines need it on shared storage).
  rt->data_dir_ = !options.data_dir.empty()  ? options.data_dir
                  : db == ":memory:"         ? ""
                  : store::IsPostgresUrl(db) ? "weft-data"
                                             : db + ".data";
  if (options.events) {
    rt->events_ = std::make_unique<engine::EventLog>();
    if (rt->store_->broadcasts()) rt->relay_ = EventRelay::Start(*rt->events_, *rt->store_);
  }
  const std::string knowledge_db = store::IsPostgresUrl(db) ? db
                                   : rt->data_dir_.empty()  ? ":memory:"
                                                            : rt->data_dir_ + "/knowledge.db";
  WEFT_RETURN_IF_ERROR(rt->RegisterActions(rt->store_.get(), rt->data_dir_, knowledge_db, opened.db_schema));
  if (options.sync_knowledge) {
    Status synced = SyncKnowledge(*rt->knowledge_);
    if (!synced.ok()) return rt->config_.path.empty() ? synced : synced.WithContext(rt->config_.path);
  }
  engine::EngineOptions eo;
  Status settings = ReadExpressionLimits(rt->config_.value, eo);
  if (settings.ok()) settings = ReadEngineSettings(rt->config_.value, eo);
  if (Status s = settings; !s.ok()) {
    return rt->config_.path.empty() ? s : s.WithContext(rt->config_.path);
  }
  eo.store = rt->store_.get();
  eo.actions = &rt->actions_;
  if (!options.workflows_dir.empty()) eo.resolve_workflow = FileResolver(options.workflows_dir, &rt->actions_);
  security::Vault* vault = rt->vault_.get();
  eo.secrets = [vault](std::string_view name) { return vault->Get(name); };
  eo.on_step = options.on_step;
  eo.threads = std::max(1, options.threads);
  eo.execute = options.execute;
  if (engine::EventLog* events = rt->events_.get()) {
    eo.events = events;
    eo.on_stream = [events](std::string_view run_id, std::string_view step_path, std::string_view delta) {
      Value data = Value::MakeObject();
      data.set("path", step_path);
      data.set("delta", delta);
      events->Broadcast({0, engine::Event::Kind::kDelta, std::string(run_id), "", std::move(data)});
    };
  }
  WEFT_ASSIGN_OR_RETURN(rt->engine_, engine::Engine::Create(std::move(eo)));
  return rt;
}

}  // namespace weft::runtime
