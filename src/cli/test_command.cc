#include "test_command.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "cli_support.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"
#include "weft/runtime/runtime.h"
#include "weft/suite/evaluation.h"
#include "weft/suite/suite.h"

namespace weft::cli {

int RunTestsCommand(const TestCommandOptions& options, std::ostream& out, std::ostream& err) {
  const std::vector<std::string> paths = options.paths.empty() ? std::vector<std::string>{"."} : options.paths;
  Result<std::vector<std::string>> files = suite::FindTestFiles(paths);
  if (!files.ok()) {
    err << "weft test: " << files.status().message() << "\n";
    return 2;
  }
  if (files->empty()) {
    err << "weft test: no test files (*.test.yaml, tests/*.yaml) under " << paths.front() << "\n";
    return 2;
  }
  suite::SuiteOptions so;
  so.config_path = options.config;
  // No --config, $WEFT_CONFIG or ./weft.yaml: the weft.yaml of the folder
  // named (or of a test file's folder, or the one above it), so `weft test
  // examples` finds examples/weft.yaml.
  std::error_code ec;
  if (so.config_path.empty() && std::getenv("WEFT_CONFIG") == nullptr && !std::filesystem::exists("weft.yaml", ec)) {
    std::vector<std::filesystem::path> folders;
    folders.reserve(paths.size() + 3 * files->size());
    for (const std::string& p : paths) {
      folders.push_back(std::filesystem::is_directory(p, ec) ? std::filesystem::path(p)
                                                             : std::filesystem::path(p).parent_path());
    }
    for (const std::string& f : *files) {
      std::filesystem::path dir = std::filesystem::path(f).parent_path();
      for (int up = 0; up < 3 && !dir.empty(); ++up, dir = dir.parent_path()) folders.push_back(dir);
    }
    for (const std::filesystem::path& dir : folders) {
      if (std::filesystem::exists(dir / "weft.yaml", ec)) {
        so.config_path = (dir / "weft.yaml").string();
        break;
      }
    }
  }
  Result<std::vector<suite::CaseResult>> results = suite::RunTests(*files, so);
  if (!results.ok()) {
    err << "weft test: " << results.status().message() << "\n";
    return 2;
  }
  out << suite::TextReport(*results);
  if (!options.junit.empty()) {
    std::ofstream junit(options.junit, std::ios::trunc);
    junit << suite::JUnitReport(*results);
    if (!junit.flush()) {
      err << "weft test: cannot write " << options.junit << "\n";
      return 2;
    }
  }
  for (const suite::CaseResult& r : *results)
    if (!r.passed) return 1;
  return 0;
}

int RecordTestCase(const RecordCommandOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<store::Store>> store = runtime::OpenStore(RuntimeFor(options.store, options.store.config));
  if (!store.ok()) {
    err << "weft test record: " << store.status().message() << "\n";
    return 2;
  }
  Result<std::string> yaml = suite::RecordCase(**store, options.run_id);
  if (!yaml.ok()) {
    err << "weft test record: " << yaml.status().message() << "\n";
    return 2;
  }
  out << yaml.value();
  return 0;
}

int EvalDataset(const EvalDatasetCommandOptions& options, std::ostream& out, std::ostream& err) {
  suite::EvalOptions o;
  o.data_path = options.data;
  o.workflows = options.workflows;
  o.models = options.models;
  o.step = options.step;
  o.input = options.input;
  o.config_path = options.config;
  o.jobs = options.jobs;
  o.limit = options.limit;
  o.fields = SplitList(options.fields, ',');
  Result<std::vector<suite::VariantReport>> reports = suite::EvaluateDataset(o);
  if (!reports.ok()) {
    err << "weft eval-dataset: " << reports.status().message() << "\n";
    return 2;
  }
  if (options.json) {
    out << ToJson(suite::EvalReportJson(*reports), 2) << "\n";
  } else {
    out << suite::EvalReport(*reports);
  }
  return 0;
}

}  // namespace weft::cli
