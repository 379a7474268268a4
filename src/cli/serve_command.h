// `weft serve`.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "workflow_commands.h"

namespace weft::cli {

struct ServeCommandOptions {
  StoreOptions store;
  std::string config;
  std::string workflows = "./workflows";
  std::string listen;  // HOST:PORT; "" = weft.yaml's server.listen, else 127.0.0.1:8080
  int threads = 2;
  // "all" (default): serve HTTP and triggers, and execute runs; "api": only
  // serve (runs go to the workers through the database); "worker": only
  // execute runs (no HTTP, no triggers). Several processes on one
  // PostgreSQL share the work whatever their roles.
  std::string role = "all";
};

// Serves until SIGTERM or SIGINT (drains, exit 0); SIGHUP re-reads the
// secrets and the workflows folder. Exit 2 on bad configuration, 1 when it
// cannot listen.
int Serve(const ServeCommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace weft::cli
