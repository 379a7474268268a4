// `weft serve`: one process that serves the workflows' triggers (webhooks,
// manual starts), the REST API (/api/v1), live updates (Server-Sent
// Events), /metrics and health checks, over HTTP/1.1 on the engine's Asio
// executors. Everything it answers 2xx is committed first.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "weft/core/status.h"
#include "weft/runtime/runtime.h"

namespace weft::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port (see Server::port())
  // Where uploaded files are kept, content-addressed ("" = uploads refused).
  std::string data_dir;
  // Media types uploads may have, by content ("image/*", "application/pdf";
  // empty = any).
  std::vector<std::string> upload_types;
  // Workflow files deployed at start and watched for changes ("" = none).
  std::string workflows_dir;
  int64_t watch_interval_ms = 1000;
  // Limits against slow or hostile clients.
  int max_connections = 10'000;
  int64_t header_limit_bytes = int64_t{16} * 1024;
  int64_t api_body_limit_bytes = int64_t{1} << 20;  // webhooks have their own
  int64_t header_timeout_ms = 10'000;               // to receive a request's headers (also idle keep-alive)
  int64_t body_timeout_ms = 30'000;                 // to receive its body
  int64_t write_timeout_ms = 30'000;
  // Addresses whose X-Forwarded-For / X-Forwarded-Proto are believed.
  std::vector<std::string> trusted_proxies;
  // Rate limits (token buckets): requests per second and burst, per API
  // key, per client address and per webhook; 0 = no limit.
  double rate_per_key = 0;
  double rate_per_address = 0;
  double rate_per_webhook = 0;
  double rate_burst = 100;
  // How long SIGTERM's drain waits for requests in flight.
  int64_t drain_timeout_ms = 10'000;
  // A log entry per step record (run_id, step, action, status, duration).
  bool log_steps = false;
  // OpenTelemetry: spans of runs and steps POSTed as OTLP/HTTP JSON to
  // <otlp_endpoint>/v1/traces every otlp_interval_ms ("" = none).
  std::string otlp_endpoint;
  int64_t otlp_interval_ms = 1000;
  // HTTPS on the listening port: PEM files of the certificate (with its
  // chain) and its key; both empty = plain HTTP.
  struct Tls {
    std::string cert;
    std::string key;
    bool enabled() const { return !cert.empty() || !key.empty(); }
  } tls;
  // How long a browser session lasts after signing in.
  int64_t session_ttl_ms = int64_t{12} * 3600 * 1000;
  // Threads doing the store's blocking reads for API requests.
  int blocking_threads = 2;
};

class Server {
 public:
  // Deploys the folder's workflows, binds the address and starts serving.
  // `runtime` must outlive the server.
  static Result<std::unique_ptr<Server>> Start(runtime::Runtime& runtime, ServerOptions options);
  ~Server();  // Stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  std::string url() const;  // "http://127.0.0.1:<port>"

  // Re-reads the workflows folder now (also done every watch interval).
  void Rescan();
  // Applies a re-read configuration (SIGHUP): rate limits, upload types,
  // session length, connection limits and timeouts, trusted proxies and the
  // TLS certificate take effect for what comes next (open connections keep
  // theirs). Returns the settings that changed but need a restart (listen,
  // data_dir, log_steps, otlp_endpoint); an error (a certificate that does
  // not load) changes nothing.
  Result<std::vector<std::string>> Reload(const ServerOptions& next);
  // Stops accepting, lets requests in flight finish (up to the drain
  // timeout), closes every connection. Runs stay durable in the store.
  void Stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Creates an API key and stores its hash: returns the key to show once
// ("wk_<id>_<secret>"). `ttl_ms` 0 = no expiry; `workflows` limits the key
// to those workflows ("*" wildcards; empty = every one).
Result<std::string> CreateApiKey(store::Store& store, const std::string& name, const std::string& role, int64_t ttl_ms,
                                 int64_t now_ms, std::vector<std::string> workflows = {});

}  // namespace weft::server
