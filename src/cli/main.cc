// The weft command line.
#include <CLI/CLI.hpp>
#include <iostream>

#include "access_commands.h"
#include "eval_command.h"
#include "migrate_command.h"
#include "serve_command.h"
#include "test_command.h"
#include "workflow_commands.h"

namespace {

void AddStoreOptions(CLI::App* cmd, weft::cli::StoreOptions& store) {
  cmd->add_option("--db", store.db, "SQLite database file (default $WEFT_DB or ./weft.db; :memory: keeps nothing)");
  cmd->add_flag("--sync-normal", store.synchronous_normal,
                "synchronous=NORMAL: faster commits; a power loss may lose the last ones (a crash does not)");
}

void AddConfigOption(CLI::App* cmd, std::string& config) {
  cmd->add_option("--config", config,
                  "weft.yaml: models, connections, knowledge bases (default $WEFT_CONFIG or ./weft.yaml)");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace weft::cli;
  CLI::App app{"weft - a self-hosted AI workflow automation engine"};
  app.require_subcommand(1);

  EvalCommandOptions eval;
  CLI::App* eval_cmd = app.add_subcommand("eval", "Evaluate a JSONata expression against JSON input (like jq)");
  eval_cmd->add_option("expression", eval.expression, "JSONata expression");
  eval_cmd->add_option("-i,--input", eval.input_path, "JSON input file, or - for stdin");
  eval_cmd->add_option("-b,--bindings", eval.bindings_json, "JSON object of variables ($name)");
  eval_cmd->add_flag("--jsonl", eval.jsonl,
                     "Batch mode: read {\"expr\",\"data\",\"bindings\"} lines on stdin, write one result line each");
  eval_cmd->add_flag("-c,--compact", eval.compact, "Print compact JSON");
  eval_cmd->add_option("--timeout-ms", eval.timeout_ms, "Evaluation time limit in milliseconds (0 = none)");
  eval_cmd->add_option("--max-depth", eval.max_depth, "Maximum evaluation depth");
  eval_cmd
      ->add_option("--max-memory-mb", eval.max_memory_mb,
                   "Megabytes of values one evaluation may create (0 = unlimited)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));

  RunCommandOptions run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run a workflow file to completion or suspension");
  run_cmd->add_option("file", run.file, "Workflow file (YAML)")->required();
  run_cmd->add_option("--input", run.input, "Run input: JSON text, or @file");
  run_cmd->add_flag("--json", run.json, "Print one JSON object at the end: {run_id, status, outputs, steps}");
  run_cmd->add_flag("-q,--quiet", run.quiet, "Do not print steps as they happen");
  AddStoreOptions(run_cmd, run.store);
  AddConfigOption(run_cmd, run.store.config);

  ValidateCommandOptions validate;
  CLI::App* validate_cmd = app.add_subcommand("validate", "Check workflow files and print every problem");
  validate_cmd->add_option("files", validate.files, "Workflow files")->required();
  validate_cmd->add_flag("--hexabot", validate.hexabot,
                         "Also report weft-only forms (fails when a file is not portable to Hexabot v3)");
  AddConfigOption(validate_cmd, validate.config);

  ResumeCommandOptions resume;
  CLI::App* resume_cmd = app.add_subcommand("resume", "Continue a suspended run with a payload");
  resume_cmd->add_option("run", resume.run_id, "Run id")->required();
  resume_cmd->add_option("--with", resume.with, "The waiting task's result: JSON text, or @file");
  resume_cmd->add_flag("--json", resume.json, "Print one JSON object at the end");
  AddStoreOptions(resume_cmd, resume.store);
  AddConfigOption(resume_cmd, resume.store.config);

  RunIdCommandOptions retry;
  CLI::App* retry_cmd = app.add_subcommand("retry", "Restart a failed run from its failed step");
  retry_cmd->add_option("run", retry.run_id, "Run id")->required();
  retry_cmd->add_option("--version", retry.version, "Switch the run to this stored workflow version");
  retry_cmd->add_flag("--json", retry.json, "Print one JSON object at the end");
  AddStoreOptions(retry_cmd, retry.store);
  AddConfigOption(retry_cmd, retry.store.config);

  RunIdCommandOptions cancel;
  CLI::App* cancel_cmd = app.add_subcommand("cancel", "Cancel a run and its child runs");
  cancel_cmd->add_option("run", cancel.run_id, "Run id")->required();
  cancel_cmd->add_flag("--json", cancel.json, "Print one JSON object at the end");
  AddStoreOptions(cancel_cmd, cancel.store);
  AddConfigOption(cancel_cmd, cancel.store.config);

  StoreOptions recover;
  CLI::App* recover_cmd =
      app.add_subcommand("recover", "Continue every run interrupted by a crash, and timers that are due");
  AddStoreOptions(recover_cmd, recover);
  AddConfigOption(recover_cmd, recover.config);

  CLI::App* runs_cmd = app.add_subcommand("runs", "Inspect runs");
  runs_cmd->require_subcommand(1);
  ListCommandOptions list;
  CLI::App* list_cmd = runs_cmd->add_subcommand("list", "List runs, newest first");
  list_cmd->add_option("--status", list.status, "Only runs with this status");
  list_cmd->add_option("--workflow", list.workflow, "Only runs of this workflow");
  list_cmd->add_option("--limit", list.limit, "How many");
  list_cmd->add_flag("--json", list.json, "Print JSON");
  AddStoreOptions(list_cmd, list.store);
  RunIdCommandOptions show;
  CLI::App* show_cmd = runs_cmd->add_subcommand("show", "Show a run's step-by-step history");
  show_cmd->add_option("run", show.run_id, "Run id")->required();
  show_cmd->add_flag("--json", show.json, "Print JSON");
  AddStoreOptions(show_cmd, show.store);

  TestCommandOptions test;
  CLI::App* test_cmd =
      app.add_subcommand("test", "Run workflows' test cases offline (PATH: test files, workflows, folders)");
  test_cmd->add_option("paths", test.paths, "Test files (*.test.yaml), workflow files or folders (default: .)");
  AddConfigOption(test_cmd, test.config);
  test_cmd->add_option("--junit", test.junit, "Also write a JUnit XML report to this file");
  test_cmd->add_option("-j,--jobs", test.jobs, "Cases run at once")->check(CLI::Range(1, 64));
  RecordCommandOptions record;
  CLI::App* record_cmd =
      test_cmd->add_subcommand("record", "Print a recorded run as a test case (its outside answers as mocks)");
  record_cmd->add_option("run", record.run_id, "Run id")->required();
  AddStoreOptions(record_cmd, record.store);
  AddConfigOption(record_cmd, record.store.config);

  EvalDatasetCommandOptions dataset;
  CLI::App* dataset_cmd = app.add_subcommand(
      "eval-dataset", "Run labelled data (JSONL) through an AI step or a workflow: accuracy, confusion, cost, latency");
  dataset_cmd->add_option("data", dataset.data, "JSONL file: one labelled example per line")->required();
  dataset_cmd->add_option("--workflow", dataset.workflows, "Workflow file; twice to compare two versions (prompts)")
      ->required();
  dataset_cmd->add_option("--step", dataset.step, "The AI step to evaluate alone (default: the whole workflow)");
  dataset_cmd->add_option("--model", dataset.models, "Model alias to run it on; twice or more to compare models");
  dataset_cmd->add_option("--input", dataset.input,
                          "JSONata over each line giving the run's input (default: its `input`, else the line)");
  dataset_cmd->add_option("--fields", dataset.fields,
                          "Labelled fields to compare, comma-separated (default: each line's `expected`)");
  AddConfigOption(dataset_cmd, dataset.config);
  dataset_cmd->add_option("-j,--jobs", dataset.jobs, "Examples in flight")->check(CLI::Range(1, 64));
  dataset_cmd->add_option("--limit", dataset.limit, "Only the first N examples");
  dataset_cmd->add_flag("--json", dataset.json, "Print JSON instead of tables");

  ServeCommandOptions serve;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Serve the workflows' triggers, the HTTP API and live updates");
  serve_cmd->add_option("--config", serve.config, "weft.yaml (default $WEFT_CONFIG or ./weft.yaml)");
  serve_cmd->add_option("--workflows", serve.workflows, "Folder of workflow files to deploy and watch")
      ->capture_default_str();
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT (default weft.yaml's server.listen, else 127.0.0.1:8080)");
  serve_cmd->add_option("--threads", serve.threads, "Threads running steps and serving HTTP")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve_cmd
      ->add_option("--role", serve.role,
                   "all: serve and execute runs; api: serve only (workers execute); worker: execute runs only")
      ->check(CLI::IsMember({"all", "api", "worker"}))
      ->capture_default_str();
  AddStoreOptions(serve_cmd, serve.store);

  MigrateCommandOptions migrate;
  CLI::App* migrate_cmd =
      app.add_subcommand("migrate", "Copy an SQLite database (workflows, runs, history, users...) to PostgreSQL");
  migrate_cmd->add_option("--to", migrate.to, "postgresql://user:password@host:port/database")->required();
  migrate_cmd->add_option("--schema", migrate.schema, "Schema for weft's tables (default: the search_path)");
  AddStoreOptions(migrate_cmd, migrate.store);

  CLI::App* keys_cmd = app.add_subcommand("keys", "Manage API keys");
  keys_cmd->require_subcommand(1);
  AccessCommandOptions key_create;
  CLI::App* key_create_cmd = keys_cmd->add_subcommand("create", "Create an API key (printed once)");
  key_create_cmd->add_option("--name", key_create.name, "What the key is for")->required();
  key_create_cmd->add_option("--role", key_create.role, "admin, editor, operator or viewer")->required();
  key_create_cmd->add_option("--ttl-days", key_create.ttl_days, "Expire after this many days (0 = never)")
      ->check(CLI::Range(int64_t{0}, int64_t{36500}));
  key_create_cmd->add_option("--workflow", key_create.workflows,
                             "Limit the key to these workflows (repeat; '*' wildcards); default all");
  key_create_cmd->add_flag("--json", key_create.json, "Print JSON");
  AddStoreOptions(key_create_cmd, key_create.store);
  AccessCommandOptions key_list;
  CLI::App* key_list_cmd = keys_cmd->add_subcommand("list", "List API keys (never their secrets)");
  AddStoreOptions(key_list_cmd, key_list.store);
  AccessCommandOptions key_revoke;
  CLI::App* key_revoke_cmd = keys_cmd->add_subcommand("revoke", "Revoke an API key");
  key_revoke_cmd->add_option("id", key_revoke.id, "Key id")->required();
  AddStoreOptions(key_revoke_cmd, key_revoke.store);

  CLI::App* users_cmd = app.add_subcommand("users", "Manage the console's users (passwords read from stdin)");
  users_cmd->require_subcommand(1);
  AccessCommandOptions user_add;
  CLI::App* user_add_cmd = users_cmd->add_subcommand("add", "Add a user; the password is read from stdin");
  user_add_cmd->add_option("name", user_add.name, "User name")->required();
  user_add_cmd->add_option("--role", user_add.role, "admin, editor, operator or viewer")->required();
  user_add_cmd->add_option("--workflow", user_add.workflows,
                           "Limit the user to these workflows (repeat; '*' wildcards); default all");
  AddStoreOptions(user_add_cmd, user_add.store);
  AccessCommandOptions user_list;
  CLI::App* user_list_cmd = users_cmd->add_subcommand("list", "List users");
  AddStoreOptions(user_list_cmd, user_list.store);
  AccessCommandOptions user_passwd;
  CLI::App* user_passwd_cmd = users_cmd->add_subcommand("passwd", "Set a user's password (read from stdin)");
  user_passwd_cmd->add_option("name", user_passwd.name, "User name")->required();
  AddStoreOptions(user_passwd_cmd, user_passwd.store);
  AccessCommandOptions user_remove;
  CLI::App* user_remove_cmd = users_cmd->add_subcommand("remove", "Remove a user and end their sessions");
  user_remove_cmd->add_option("name", user_remove.name, "User name")->required();
  AddStoreOptions(user_remove_cmd, user_remove.store);

  CLI::App* secrets_cmd = app.add_subcommand("secrets", "Manage secrets, stored encrypted with the master key");
  secrets_cmd->require_subcommand(1);
  AccessCommandOptions secret_set;
  CLI::App* secret_set_cmd = secrets_cmd->add_subcommand("set", "Set a secret; the value is read from stdin");
  secret_set_cmd->add_option("name", secret_set.name, "Secret name (letters, digits, _)")->required();
  secret_set_cmd->add_option("--config", secret_set.config, "weft.yaml (secrets.key_file)");
  AddStoreOptions(secret_set_cmd, secret_set.store);
  AccessCommandOptions secret_list;
  CLI::App* secret_list_cmd = secrets_cmd->add_subcommand("list", "List secrets by name (never their values)");
  AddStoreOptions(secret_list_cmd, secret_list.store);
  AccessCommandOptions secret_delete;
  CLI::App* secret_delete_cmd = secrets_cmd->add_subcommand("delete", "Delete a secret");
  secret_delete_cmd->add_option("name", secret_delete.name, "Secret name")->required();
  AddStoreOptions(secret_delete_cmd, secret_delete.store);
  CLI::App* secret_keygen_cmd = secrets_cmd->add_subcommand("keygen", "Print a new random master key");

  CLI::App* audit_cmd = app.add_subcommand("audit", "Read and check the audit log");
  audit_cmd->require_subcommand(1);
  AccessCommandOptions audit_list;
  CLI::App* audit_list_cmd = audit_cmd->add_subcommand("list", "Print audit entries, oldest first");
  audit_list_cmd->add_option("--after", audit_list.after, "After this entry's seq");
  audit_list_cmd->add_option("--limit", audit_list.limit, "At most this many")->check(CLI::Range(1, 100000));
  AddStoreOptions(audit_list_cmd, audit_list.store);
  AccessCommandOptions audit_verify;
  CLI::App* audit_verify_cmd =
      audit_cmd->add_subcommand("verify", "Check the hash chain: exit 1 and say where when an entry was changed");
  audit_verify_cmd->add_option("--head", audit_verify.head,
                               "A head hash printed earlier: also detect entries cut from the end");
  AddStoreOptions(audit_verify_cmd, audit_verify.store);

  CLI11_PARSE(app, argc, argv);

  if (eval_cmd->parsed()) {
    if (!eval.jsonl && eval.expression.empty()) {
      std::cerr << "weft eval: an expression is required (or --jsonl)\n";
      return 2;
    }
    return RunEval(eval, std::cin, std::cout, std::cerr);
  }
  if (run_cmd->parsed()) return RunWorkflow(run, std::cout, std::cerr);
  if (validate_cmd->parsed()) return ValidateWorkflows(validate, std::cout, std::cerr);
  if (resume_cmd->parsed()) return ResumeRun(resume, std::cout, std::cerr);
  if (retry_cmd->parsed()) return RetryRun(retry, std::cout, std::cerr);
  if (cancel_cmd->parsed()) return CancelRun(cancel, std::cout, std::cerr);
  if (recover_cmd->parsed()) return RecoverRuns(recover, std::cout, std::cerr);
  if (list_cmd->parsed()) return ListRuns(list, std::cout, std::cerr);
  if (show_cmd->parsed()) return ShowRun(show, std::cout, std::cerr);
  if (serve_cmd->parsed()) return Serve(serve, std::cout, std::cerr);
  if (record_cmd->parsed()) return RecordTestCase(record, std::cout, std::cerr);
  if (dataset_cmd->parsed()) return EvalDataset(dataset, std::cout, std::cerr);
  if (test_cmd->parsed()) return RunTestsCommand(test, std::cout, std::cerr);
  if (migrate_cmd->parsed()) return Migrate(migrate, std::cout, std::cerr);
  if (key_create_cmd->parsed()) return CreateKey(key_create, std::cout, std::cerr);
  if (key_list_cmd->parsed()) return ListKeys(key_list, std::cout, std::cerr);
  if (key_revoke_cmd->parsed()) return RevokeKey(key_revoke, std::cout, std::cerr);
  if (user_add_cmd->parsed()) return AddUser(user_add, std::cin, std::cout, std::cerr);
  if (user_list_cmd->parsed()) return ListUsers(user_list, std::cout, std::cerr);
  if (user_passwd_cmd->parsed()) return ChangePassword(user_passwd, std::cin, std::cout, std::cerr);
  if (user_remove_cmd->parsed()) return RemoveUser(user_remove, std::cout, std::cerr);
  if (secret_set_cmd->parsed()) return SetSecret(secret_set, std::cin, std::cout, std::cerr);
  if (secret_list_cmd->parsed()) return ListSecrets(secret_list, std::cout, std::cerr);
  if (secret_delete_cmd->parsed()) return DeleteSecret(secret_delete, std::cout, std::cerr);
  if (secret_keygen_cmd->parsed()) return GenerateMasterKey(std::cout, std::cerr);
  if (audit_list_cmd->parsed()) return ListAudit(audit_list, std::cout, std::cerr);
  if (audit_verify_cmd->parsed()) return VerifyAudit(audit_verify, std::cout, std::cerr);
  return 0;
}
