// `weft test`: runs workflows' test cases offline (suite/suite.h), and
// `weft test record RUN` turns a recorded run into a case.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "workflow_commands.h"

namespace weft::cli {

struct TestCommandOptions {
  std::vector<std::string> paths;  // test files, workflows, folders ("" = the current folder)
  std::string config;
  std::string junit;  // write a JUnit XML report there
  int jobs = 2;
};

// 0 when every case passed, 1 when one failed, 2 when the tests could not
// run (a file that does not read, a workflow that does not load).
int RunTestsCommand(const TestCommandOptions& options, std::ostream& out, std::ostream& err);

struct RecordCommandOptions {
  StoreOptions store;
  std::string run_id;
};

// Prints the case (YAML) for a `cases:` list.
int RecordTestCase(const RecordCommandOptions& options, std::ostream& out, std::ostream& err);

struct EvalDatasetCommandOptions {
  std::string data;
  std::vector<std::string> workflows;
  std::vector<std::string> models;
  std::string step;
  std::string input;
  std::string fields;  // comma-separated
  std::string config;
  int jobs = 4;
  int limit = 0;
  bool json = false;
};

// `weft eval-dataset`: 0 when it ran (whatever the accuracy), 2 when it
// could not.
int EvalDataset(const EvalDatasetCommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace weft::cli
