// The workflow commands: `weft run`, `weft validate`, `weft resume`,
// `weft retry`, `weft cancel`, `weft recover`, `weft runs list|show`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace weft::cli {

struct StoreOptions {
  std::string db;  // SQLite file; ":memory:" = nothing kept
  bool synchronous_normal = false;
  std::string config;  // weft.yaml ("" = $WEFT_CONFIG, else ./weft.yaml when present)
};

struct RunCommandOptions {
  StoreOptions store;
  std::string file;
  std::string input;  // JSON text, or @path
  bool json = false;  // one JSON object at the end instead of a live trace
  bool quiet = false;
};

struct ValidateCommandOptions {
  std::vector<std::string> files;
  std::string config;  // weft.yaml: models and knowledge bases the files name
  // Also report every form Hexabot v3 refuses or runs differently (and fail
  // when there is one): is the file portable to Hexabot?
  bool hexabot = false;
};

struct ResumeCommandOptions {
  StoreOptions store;
  std::string run_id;
  std::string with;  // JSON payload, or @path
  bool json = false;
};

struct RunIdCommandOptions {
  StoreOptions store;
  std::string run_id;
  bool json = false;
  int64_t version = 0;  // retry: switch to this workflow version
};

struct ListCommandOptions {
  StoreOptions store;
  std::string status;
  std::string workflow;
  int limit = 50;
  bool json = false;
};

// Each returns the process exit code: 0 success (a run completed or is
// suspended), 1 the run failed or was cancelled, 2 bad usage or input.
int RunWorkflow(const RunCommandOptions& options, std::ostream& out, std::ostream& err);
int ValidateWorkflows(const ValidateCommandOptions& options, std::ostream& out, std::ostream& err);
int ResumeRun(const ResumeCommandOptions& options, std::ostream& out, std::ostream& err);
int RetryRun(const RunIdCommandOptions& options, std::ostream& out, std::ostream& err);
int CancelRun(const RunIdCommandOptions& options, std::ostream& out, std::ostream& err);
int RecoverRuns(const StoreOptions& options, std::ostream& out, std::ostream& err);
int ListRuns(const ListCommandOptions& options, std::ostream& out, std::ostream& err);
int ShowRun(const RunIdCommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace weft::cli
