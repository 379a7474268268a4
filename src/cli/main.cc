// The weft command line.
#include <CLI/CLI.hpp>
#include <iostream>

#include "eval_command.h"

int main(int argc, char** argv) {
  CLI::App app{"weft - a self-hosted AI workflow automation engine"};
  app.require_subcommand(1);

  weft::cli::EvalCommandOptions eval;
  CLI::App* eval_cmd = app.add_subcommand("eval", "Evaluate a JSONata expression against JSON input (like jq)");
  eval_cmd->add_option("expression", eval.expression, "JSONata expression");
  eval_cmd->add_option("-i,--input", eval.input_path, "JSON input file, or - for stdin");
  eval_cmd->add_option("-b,--bindings", eval.bindings_json, "JSON object of variables ($name)");
  eval_cmd->add_flag("--jsonl", eval.jsonl,
                     "Batch mode: read {\"expr\",\"data\",\"bindings\"} lines on stdin, write one result line each");
  eval_cmd->add_flag("-c,--compact", eval.compact, "Print compact JSON");
  eval_cmd->add_option("--timeout-ms", eval.timeout_ms, "Evaluation time limit in milliseconds (0 = none)");
  eval_cmd->add_option("--max-depth", eval.max_depth, "Maximum evaluation depth");

  CLI11_PARSE(app, argc, argv);

  if (eval_cmd->parsed()) {
    if (!eval.jsonl && eval.expression.empty()) {
      std::cerr << "weft eval: an expression is required (or --jsonl)\n";
      return 2;
    }
    return weft::cli::RunEval(eval, std::cin, std::cout, std::cerr);
  }
  return 0;
}
