#include "serve_command.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

#include "cli_support.h"
#include "weft/core/clock.h"
#include "weft/core/json.h"
#include "weft/core/log.h"
#include "weft/runtime/runtime.h"
#include "weft/server/server.h"

namespace weft::cli {
namespace {

Status ParseListen(const std::string& listen, server::ServerOptions& o) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size()) {
    return InvalidArgumentError("listen address '" + listen + "' must be HOST:PORT");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  char* end = nullptr;
  const long port = strtol(listen.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535) return InvalidArgumentError("port in '" + listen + "' is not 0-65535");
  o.host = host.empty() ? "127.0.0.1" : host;
  o.port = static_cast<int>(port);
  return Status::Ok();
}

// weft.yaml's `server:` section; `log_format` is set when it names one.
Status ReadServerConfig(const runtime::Config& config, server::ServerOptions& o, std::optional<LogFormat>& log_format) {
  const Value s = config.value.get("server");
  if (s.is_undefined()) return Status::Ok();
  if (!s.is_object()) return InvalidArgumentError("server must be a mapping");
  static const char* const kKeys[] = {
      "listen",           "data_dir",   "trusted_proxies",   "max_connections", "rate_per_key",     "rate_per_address",
      "rate_per_webhook", "rate_burst", "header_timeout_ms", "body_timeout_ms", "drain_timeout_ms", "session_ttl_hours",
      "upload_types",     "log_format", "log_steps",         "otlp_endpoint",   "otlp_interval_ms", "tls"};
  for (const auto& m : s.members()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), m.key) == std::end(kKeys)) {
      std::string list;
      for (const char* k : kKeys) list.append(list.empty() ? "" : ", ").append(k);
      return InvalidArgumentError("server: unknown key '" + m.key + "' (" + list + ")");
    }
  }
  if (Value v = s.get("listen"); v.is_defined()) {
    if (!v.is_string()) return InvalidArgumentError("server.listen must be HOST:PORT");
    WEFT_RETURN_IF_ERROR(ParseListen(v.as_string(), o));
  }
  if (Value v = s.get("data_dir"); v.is_defined()) {
    if (!v.is_string()) return InvalidArgumentError("server.data_dir must be a folder");
    o.data_dir = v.as_string();
  }
  if (Value v = s.get("log_format"); v.is_defined()) {
    if (v != Value("json") && v != Value("text")) return InvalidArgumentError("server.log_format must be json or text");
    log_format = v == Value("json") ? LogFormat::kJson : LogFormat::kText;
  }
  if (Value v = s.get("tls"); v.is_defined()) {
    // Relative paths are read from the configuration's folder.
    const auto file = [&](const char* key, std::string& out) -> Status {
      const Value f = v.get(key);
      if (!f.is_string() || f.as_string().empty()) {
        return InvalidArgumentError(std::string("server.tls.") + key + " must be the path of a PEM file");
      }
      std::filesystem::path path = f.as_string();
      if (path.is_relative() && !config.path.empty()) path = std::filesystem::path(config.path).parent_path() / path;
      out = path.string();
      return Status::Ok();
    };
    if (!v.is_object()) return InvalidArgumentError("server.tls must be a mapping {cert: FILE, key: FILE}");
    for (const auto& m : v.members()) {
      if (m.key != "cert" && m.key != "key") {
        return InvalidArgumentError("server.tls: unknown key '" + m.key + "' (cert, key)");
      }
    }
    WEFT_RETURN_IF_ERROR(file("cert", o.tls.cert));
    WEFT_RETURN_IF_ERROR(file("key", o.tls.key));
  }
  if (Value v = s.get("log_steps"); v.is_defined()) {
    if (!v.is_bool()) return InvalidArgumentError("server.log_steps must be true or false");
    o.log_steps = v.as_bool();
  }
  if (Value v = s.get("otlp_endpoint"); v.is_defined()) {
    if (!v.is_string() || (v.as_string().rfind("http://", 0) != 0 && v.as_string().rfind("https://", 0) != 0)) {
      return InvalidArgumentError("server.otlp_endpoint must be an http(s) URL (the collector's, e.g. :4318)");
    }
    o.otlp_endpoint = v.as_string();
  }
  if (Value v = s.get("upload_types"); v.is_defined()) {
    if (!v.is_array()) return InvalidArgumentError("server.upload_types must be a list of media types (image/*, ...)");
    for (const Value& a : v.as_array()) {
      if (!a.is_string() || a.as_string().find('/') == std::string::npos) {
        return InvalidArgumentError("server.upload_types must be a list of media types (image/*, ...)");
      }
      o.upload_types.push_back(a.as_string());
    }
  }
  if (Value v = s.get("trusted_proxies"); v.is_defined()) {
    if (!v.is_array()) return InvalidArgumentError("server.trusted_proxies must be a list of addresses");
    for (const Value& a : v.as_array()) {
      if (!a.is_string()) return InvalidArgumentError("server.trusted_proxies must be a list of addresses");
      o.trusted_proxies.push_back(a.as_string());
    }
  }
  auto number = [&](const char* key, double min, double max, auto& out) -> Status {
    const Value v = s.get(key);
    if (v.is_undefined()) return Status::Ok();
    if (!v.is_number() || v.as_number() < min || v.as_number() > max) {
      return InvalidArgumentError(std::string("server.") + key + " must be a number from " +
                                  std::to_string(static_cast<int64_t>(min)) + " to " +
                                  std::to_string(static_cast<int64_t>(max)));
    }
    out = static_cast<std::remove_reference_t<decltype(out)>>(v.as_number());
    return Status::Ok();
  };
  WEFT_RETURN_IF_ERROR(number("max_connections", 1, 1'000'000, o.max_connections));
  WEFT_RETURN_IF_ERROR(number("rate_per_key", 0, 1e9, o.rate_per_key));
  WEFT_RETURN_IF_ERROR(number("rate_per_address", 0, 1e9, o.rate_per_address));
  WEFT_RETURN_IF_ERROR(number("rate_per_webhook", 0, 1e9, o.rate_per_webhook));
  WEFT_RETURN_IF_ERROR(number("rate_burst", 1, 1e9, o.rate_burst));
  WEFT_RETURN_IF_ERROR(number("header_timeout_ms", 100, 3'600'000, o.header_timeout_ms));
  WEFT_RETURN_IF_ERROR(number("body_timeout_ms", 100, 3'600'000, o.body_timeout_ms));
  WEFT_RETURN_IF_ERROR(number("drain_timeout_ms", 0, 3'600'000, o.drain_timeout_ms));
  WEFT_RETURN_IF_ERROR(number("otlp_interval_ms", 100, 3'600'000, o.otlp_interval_ms));
  double session_hours = static_cast<double>(o.session_ttl_ms) / 3'600'000;
  WEFT_RETURN_IF_ERROR(number("session_ttl_hours", 0.01, 24 * 365, session_hours));
  o.session_ttl_ms = static_cast<int64_t>(session_hours * 3'600'000);
  return Status::Ok();
}

// The server's options from weft.yaml and the command line (which wins);
// the log format, when weft.yaml names one, is for the caller to apply.
Status ReadServeOptions(const ServeCommandOptions& options, server::ServerOptions& so,
                        std::optional<LogFormat>& log_format) {
  WEFT_ASSIGN_OR_RETURN(runtime::Config config, runtime::ReadConfig(options.config));
  if (Status s = ReadServerConfig(config, so, log_format); !s.ok()) {
    return config.path.empty() ? s : s.WithContext(config.path);
  }
  if (!options.listen.empty()) WEFT_RETURN_IF_ERROR(ParseListen(options.listen, so));
  return Status::Ok();
}

}  // namespace

int Serve(const ServeCommandOptions& options, std::ostream& out, std::ostream& err) {
  // The signals are waited for below, on this thread only: block them
  // before any thread starts so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The server's settings first: the runtime's file_text reads uploads
  // from the folder the server keeps them in.
  server::ServerOptions so;
  std::optional<LogFormat> log_format;
  if (Status s = ReadServeOptions(options, so, log_format); !s.ok()) {
    err << "weft serve: " << s.message() << "\n";
    return 2;
  }
  if (log_format) SetLogFormat(*log_format);
  runtime::RuntimeOptions ro = RuntimeFor(options.store, options.config);
  ro.workflows_dir = options.workflows;
  ro.threads = std::max(1, options.threads);
  ro.events = true;  // a worker's go to the other processes (live updates)
  ro.execute = options.role != "api";
  ro.data_dir = so.data_dir;
  // Knowledge folders are indexed by the syncer thread below, from the
  // start: embedding a large folder must not hold the server back (searches
  // use what was indexed before meanwhile).
  ro.sync_knowledge = false;
  Result<std::unique_ptr<runtime::Runtime>> rt = runtime::Runtime::Open(ro);
  if (!rt.ok()) {
    err << "weft serve: " << rt.status().message() << "\n";
    return 2;
  }
  so.workflows_dir = options.workflows;
  if (!std::filesystem::is_directory(so.workflows_dir)) {
    err << "weft serve: note: workflows folder " << so.workflows_dir << " does not exist (none deployed from it)\n";
    so.workflows_dir.clear();
  }
  const std::string configured_data_dir = so.data_dir;
  so.data_dir = (*rt)->data_dir();
  // Runs a crash interrupted continue first.
  if (Result<int> picked = (*rt)->engine().Recover(); picked.ok() && *picked > 0) {
    err << "weft serve: continuing " << *picked << " interrupted run(s)\n";
  }
  std::unique_ptr<server::Server> server;
  if (options.role != "worker") {
    Result<std::unique_ptr<server::Server>> started = server::Server::Start(**rt, so);
    if (!started.ok()) {
      err << "weft serve: " << started.status().message() << "\n";
      return 1;
    }
    server = std::move(started).value();
    out << "weft serving on " << server->url() << (options.role == "api" ? " (api: runs go to the workers)" : "")
        << "\n"
        << std::flush;
  } else {
    out << "weft worker executing runs from the database\n" << std::flush;
  }
  // Runs another process left (or that it created for any worker), and
  // timers that fall due (waits, retries' backoff), are claimed as soon as
  // the store announces them and at least every second; a burst of
  // announcements costs one claim per 50 ms.
  std::atomic<bool> stop_claiming{options.role == "api"};
  std::thread claimer([&] {
    auto last = std::chrono::steady_clock::now();
    while (!stop_claiming) {
      (void)(*rt)->store().WaitForWork(1000);
      std::this_thread::sleep_until(last + std::chrono::milliseconds(50));
      if (stop_claiming) break;
      last = std::chrono::steady_clock::now();
      (void)(*rt)->engine().Recover();
    }
  });
  // Knowledge bases follow their folders: indexed again (what changed
  // only) every 30 s and on SIGHUP, on a thread of their own (embedding a
  // large folder may take a while).
  std::mutex knowledge_mu;
  std::condition_variable knowledge_cv;
  bool knowledge_stop = false;
  bool knowledge_now = true;
  std::thread knowledge_syncer([&] {
    std::unique_lock lock(knowledge_mu);
    while (!knowledge_stop) {
      knowledge_cv.wait_for(lock, std::chrono::seconds(30), [&] { return knowledge_stop || knowledge_now; });
      if (knowledge_stop) break;
      knowledge_now = false;
      lock.unlock();
      if (Status s = runtime::SyncKnowledge(*(*rt)->knowledge()); !s.ok()) {
        Log(LogLevel::kWarning, "knowledge not indexed again: " + s.message());
      }
      lock.lock();
    }
  });
  for (;;) {
    timespec second{1, 0};
    const int sig = sigtimedwait(&signals, nullptr, &second);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig == SIGHUP) {
      err << "weft serve: SIGHUP: re-reading the configuration, the secrets, the workflows and knowledge folders\n";
      // A configuration that does not read (or a certificate that does not
      // load) keeps the one in force; so does a secret that does not open.
      server::ServerOptions next;
      std::optional<LogFormat> next_format;
      Status read = ReadServeOptions(options, next, next_format);
      if (read.ok() && next.data_dir == configured_data_dir) next.data_dir = so.data_dir;
      if (!read.ok()) {
        err << "weft serve: configuration not reloaded: " << read.message() << "\n";
      } else if (!server) {
        if (next_format) SetLogFormat(*next_format);
      } else if (Result<std::vector<std::string>> restart = server->Reload(next); !restart.ok()) {
        err << "weft serve: configuration not reloaded: " << restart.status().message() << "\n";
      } else {
        if (next_format) SetLogFormat(*next_format);
        for (const std::string& key : *restart) {
          err << "weft serve: note: server." << key << " changed; it takes effect at the next start\n";
        }
      }
      if (Status s = (*rt)->vault().Reload(); !s.ok()) {
        err << "weft serve: secrets not reloaded: " << s.message() << "\n";
      }
      if (server) server->Rescan();
      {
        std::lock_guard lock(knowledge_mu);
        knowledge_now = true;
      }
      knowledge_cv.notify_one();
      continue;
    }
  }
  err << "weft serve: stopping\n";
  {
    std::lock_guard lock(knowledge_mu);
    knowledge_stop = true;
  }
  knowledge_cv.notify_one();
  knowledge_syncer.join();
  stop_claiming = true;
  claimer.join();
  if (server) server->Stop();
  server.reset();
  // Runs still executing stay durable (status running, leased to this
  // process, which is gone): the next start continues them.
  rt->reset();
  return 0;
}

}  // namespace weft::cli
