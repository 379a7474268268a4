// Deploying workflows (the folder, the API) and the table of their triggers.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "server_impl.h"
#include "weft/core/clock.h"
#include "weft/core/file.h"
#include "weft/core/log.h"
#include "weft/dsl/loader.h"
#include "weft/security/audit.h"

namespace weft::server {

namespace fs = std::filesystem;

Result<Server::Impl::Deployment> Server::Impl::DeployText(const std::string& text, const std::string& file,
                                                          const std::string& default_name,
                                                          std::vector<dsl::Diagnostic>* diagnostics,
                                                          const Principal* who) {
  dsl::Diagnostics diag;
  dsl::LoadOptions load;
  load.default_name = default_name;
  Result<std::shared_ptr<const dsl::Workflow>> wf = dsl::LoadWorkflow(text, file, runtime.actions(), &diag, load);
  if (diagnostics != nullptr) {
    for (const dsl::Diagnostic& d : diag.all()) {
      if (d.severity != dsl::Diagnostic::Severity::kPortability) diagnostics->push_back(d);
    }
  }
  if (!wf.ok()) return wf.status();
  if (who != nullptr && !who->MaySee((*wf)->name)) {
    return Status(StatusCode::kPermissionDenied, who->Actor() + " may not deploy workflow '" + (*wf)->name + "'");
  }
  // Webhook paths are checked against the other workflows before anything
  // is stored: a clash refuses the new version, the old one stays live.
  {
    MutexLock lock(hooks_mu);
    for (const dsl::Trigger& t : (*wf)->triggers) {
      if (t.kind != dsl::Trigger::Kind::kWebhook) continue;
      for (const std::string& m : t.webhook.methods) {
        auto it = hooks.find(m + " " + t.webhook.path);
        if (it != hooks.end() && it->second.workflow != (*wf)->name) {
          dsl::Diagnostic d;
          d.location = t.location;
          d.message = m + " /hooks/" + t.webhook.path + " is already served by workflow '" + it->second.workflow + "'";
          if (diagnostics != nullptr) diagnostics->push_back(d);
          return InvalidArgumentError(d.ToString());
        }
      }
    }
  }
  Result<store::WorkflowRecord> before = store.GetWorkflow((*wf)->name);
  WEFT_ASSIGN_OR_RETURN(int64_t version, engine.Deploy(*wf));
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const dsl::Workflow> stored, engine.GetWorkflow((*wf)->name, version));
  WEFT_RETURN_IF_ERROR(RegisterTriggers(stored));
  return Deployment{(*wf)->name, version, !before.ok() || before->version != version};
}

Status Server::Impl::RegisterTriggers(const std::shared_ptr<const dsl::Workflow>& wf) {
  switches->Load(store, wf->name, wf->triggers.size());
  MutexLock lock(hooks_mu);
  for (auto it = hooks.begin(); it != hooks.end();) {
    it = it->second.workflow == wf->name ? hooks.erase(it) : std::next(it);
  }
  for (auto it = chats.begin(); it != chats.end();) {
    it = it->second.workflow == wf->name ? chats.erase(it) : std::next(it);
  }
  std::vector<std::string> clashes;
  for (size_t i = 0; i < wf->triggers.size(); ++i) {
    const dsl::Trigger& t = wf->triggers[i];
    if (t.kind == dsl::Trigger::Kind::kWebhook) {
      for (const std::string& m : t.webhook.methods) {
        auto [it, fresh] = hooks.try_emplace(m + " " + t.webhook.path, HookEntry{wf->name, wf, &t.webhook, i});
        if (!fresh) clashes.push_back(m + " /hooks/" + t.webhook.path + " (served by '" + it->second.workflow + "')");
      }
    } else if (t.kind == dsl::Trigger::Kind::kChat) {
      auto [it, fresh] = chats.try_emplace(t.chat.channel, ChatEntry{wf->name, wf, &t.chat, i});
      if (!fresh) clashes.push_back("chat channel '" + t.chat.channel + "' (served by '" + it->second.workflow + "')");
    }
  }
  deployed[wf->name] = wf;
  scheduler->Set(wf);
  dispatcher->Set(wf);
  database_triggers->Set(wf);
  if (!clashes.empty()) {
    std::string list;
    for (const std::string& c : clashes) list += (list.empty() ? "" : ", ") + c;
    return FailedPreconditionError("workflow '" + wf->name + "': triggers already taken: " + list);
  }
  return Status::Ok();
}

std::shared_ptr<const dsl::Workflow> Server::Impl::Deployed(const std::string& name) {
  MutexLock lock(hooks_mu);
  auto it = deployed.find(name);
  return it == deployed.end() ? nullptr : it->second;
}

std::optional<ChatEntry> Server::Impl::FindChat(const std::string& channel) {
  MutexLock lock(hooks_mu);
  auto it = chats.find(channel);
  if (it == chats.end()) return std::nullopt;
  return it->second;
}

std::optional<HookEntry> Server::Impl::FindHook(const std::string& method, const std::string& path) {
  MutexLock lock(hooks_mu);
  auto it = hooks.find(method + " " + path);
  if (it == hooks.end()) return std::nullopt;
  return it->second;
}

void Server::Impl::ScanFolder() {
  if (options.workflows_dir.empty()) return;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(options.workflows_dir, ec)) {
    const fs::path& p = entry.path();
    const std::string name = p.filename().string();
    if (!entry.is_regular_file(ec) || name.empty() || name[0] == '.') continue;
    if (p.extension() != ".yaml" && p.extension() != ".yml") continue;
    if (name.find(".test.") != std::string::npos) continue;  // workflow tests live beside workflows
    files.push_back(p);
  }
  if (ec) {
    Log(LogLevel::kError, "cannot read the workflows folder " + options.workflows_dir + ": " + ec.message());
    return;
  }
  std::sort(files.begin(), files.end());
  MutexLock lock(folder_mu);
  for (const fs::path& p : files) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) continue;
    const std::pair<int64_t, int64_t> stamp{
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, static_cast<int64_t>(st.st_size)};
    auto seen = seen_files.find(p.string());
    if (seen != seen_files.end() && seen->second == stamp) continue;
    seen_files[p.string()] = stamp;
    Result<std::string> text = ReadFileBounded(p.string());
    if (!text.ok()) {
      Log(LogLevel::kError, text.status().message());
      continue;
    }
    std::vector<dsl::Diagnostic> diagnostics;
    Result<Deployment> version = DeployText(*text, p.string(), p.stem().string(), &diagnostics);
    if (!version.ok()) {
      // The previous version (if any) stays live.
      Value problems = Value::MakeArray();
      for (const dsl::Diagnostic& d : diagnostics) problems.push_back(Value(d.ToString()));
      if (diagnostics.empty()) problems.push_back(Value(version.status().message()));
      Value fields = Value::MakeObject();
      fields.set("file", p.string());
      fields.set("problems", problems);
      Log(LogLevel::kError, "workflow not deployed (the previous version stays live)", fields);
      file_problems[p.string()] = diagnostics;
      continue;
    }
    file_problems.erase(p.string());
    if (version->changed) {
      Value details = Value::MakeObject();
      details.set("version", static_cast<double>(version->version));
      details.set("file", p.string());
      Status audited = security::Audit(store, SystemClock::Instance().NowMillis(), "system", "deploy",
                                       "workflow:" + version->name, details);
      if (!audited.ok()) Log(LogLevel::kError, "cannot write the audit log: " + audited.ToString());
    }
    Value fields = Value::MakeObject();
    fields.set("file", p.string());
    fields.set("workflow", version->name);
    fields.set("version", static_cast<double>(version->version));
    Log(LogLevel::kInfo, "deployed", fields);
  }
}

}  // namespace weft::server
