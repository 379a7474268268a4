// What the action tests do over and over: load a workflow text, deploy it,
// run it to its end.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"

namespace weft::actions {

// The run's record once it has ended. A workflow that does not load, or a
// run still going after a minute, fails the calling test and comes back as
// a record whose `error` says so.
inline store::RunRecord RunWorkflow(engine::Engine& engine, const engine::ActionRegistry& registry,
                                    const std::string& yaml, Value input = Value::MakeObject()) {
  store::RunRecord failed;
  failed.status = store::RunStatus::kRunning;
  auto wf = dsl::LoadWorkflow(yaml, "wf.yaml", registry);
  if (!wf.ok()) {
    ADD_FAILURE() << wf.status();
    failed.error = "did not load: " + wf.status().ToString();
    return failed;
  }
  auto version = engine.Deploy(*wf);
  Result<std::string> id =
      version.ok() ? engine.Start((*wf)->name, *version, std::move(input)) : Result<std::string>(version.status());
  if (!id.ok()) {
    ADD_FAILURE() << id.status();
    failed.error = "did not start: " + id.status().ToString();
    return failed;
  }
  auto run = engine.Wait(*id, std::chrono::seconds(60));
  if (!run.ok()) {
    ADD_FAILURE() << run.status();
    failed.error = "did not end within 60 s: " + run.status().ToString();
    return failed;
  }
  return *run;
}

}  // namespace weft::actions
