// HTTPS served by weft itself: a self-signed certificate made for the test,
// real TLS clients (libcurl), event streams over TLS, files that do not load,
// and a certificate and limits replaced by Reload (SIGHUP) while serving.
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>

#include "server_fixture.h"

namespace weft::server {
namespace {

// A self-signed certificate for 127.0.0.1 with common name `name`, and its
// key, written as PEM files.
struct TestCert {
  std::string cert;
  std::string key;
};

TestCert MakeCert(const fs::path& dir, const std::string& name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(x, subject);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(x, key, EVP_sha256());
  TestCert out{(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
  FILE* f = fopen(out.cert.c_str(), "w");
  PEM_write_X509(f, x);
  fclose(f);
  f = fopen(out.key.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

struct CurlReply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string headers;
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One HTTPS request trusting only `ca` (the test's certificate).
CurlReply Https(int port, const std::string& ca, const std::string& method, const std::string& target,
                const std::string& body = "", const std::vector<std::string>& headers = {}, long timeout_ms = 5000) {
  CurlReply r;
  CURL* curl = curl_easy_init();
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + target;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty()) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  r.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

class TlsTest : public ServerTest {
 protected:
  void OpenTls(const TestCert& c) {
    ServerOptions o;
    o.tls.cert = c.cert;
    o.tls.key = c.key;
    Open(o);
  }
};

TEST_F(TlsTest, ServesTheApiWebhooksAndEventStreamsOverTls) {
  const TestCert cert = MakeCert(dir_, "weft-test");
  OpenTls(cert);
  EXPECT_EQ(server_->url().rfind("https://127.0.0.1:", 0), 0u) << server_->url();

  CurlReply health = Https(port(), cert.cert, "GET", "/healthz");
  ASSERT_EQ(health.code, CURLE_OK) << curl_easy_strerror(health.code);
  EXPECT_EQ(health.status, 200);

  CurlReply hook = Https(port(), cert.cert, "POST", "/hooks/triage", R"({"message":"charged twice","urgency":"high"})",
                         {"Content-Type: application/json"});
  ASSERT_EQ(hook.code, CURLE_OK);
  EXPECT_EQ(hook.status, 200) << hook.body;
  EXPECT_EQ(Json(HttpReply{200, {}, hook.body}).get("route"), Value("human")) << hook.body;

  // A run's event stream, written through the TLS layer.
  const std::string run_id = runtime_->store().ListRuns({}).value().at(0).id;
  const auto asked = std::chrono::steady_clock::now();
  CurlReply events = Https(port(), cert.cert, "GET", "/api/v1/runs/" + run_id + "/events", "",
                           {"Authorization: Bearer " + keys_.at("viewer")}, 700);
  // (Once, under ASan in CI, the stream ended at once instead; the details
  // say how, should it happen again.)
  EXPECT_EQ(events.code, CURLE_OPERATION_TIMEDOUT)
      << "a stream stays open; it ended after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - asked).count()
      << " ms: " << curl_easy_strerror(events.code) << "\nheaders:\n"
      << events.headers << "body:\n"
      << events.body;
  EXPECT_EQ(events.status, 200);
  EXPECT_NE(events.body.find("event: snapshot"), std::string::npos) << events.body;
  EXPECT_NE(events.body.find(run_id), std::string::npos);

  // A client that does not trust the certificate is refused by its own
  // check; plain HTTP on the TLS port gets no answer (and no run).
  const TestCert other = MakeCert(dir_, "someone-else");
  EXPECT_EQ(Https(port(), other.cert, "GET", "/healthz").code, CURLE_PEER_FAILED_VERIFICATION);
  const size_t runs = RunCount();
  EXPECT_EQ(HttpCall(port(), "POST", "/hooks/triage", R"({"message":"m","urgency":"low"})").status, 0);
  EXPECT_EQ(RunCount(), runs);
}

TEST_F(TlsTest, SignInOverTlsSetsASecureCookie) {
  const TestCert cert = MakeCert(dir_, "weft-test");
  OpenTls(cert);
  ASSERT_EQ(Https(port(), cert.cert, "POST", "/api/v1/users",
                  R"({"name":"ada","password":"a long passphrase","role":"viewer"})",
                  {"Content-Type: application/json", "Authorization: Bearer " + keys_.at("admin")})
                .status,
            201);
  CurlReply in = Https(port(), cert.cert, "POST", "/api/v1/session", R"({"user":"ada","password":"a long passphrase"})",
                       {"Content-Type: application/json"});
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_NE(in.headers.find("; Secure"), std::string::npos) << in.headers;
}

TEST_F(TlsTest, FilesThatDoNotLoadAreRefusedWithTheirName) {
  const TestCert a = MakeCert(dir_, "a");
  const TestCert b = MakeCert(dir_, "b");
  struct Case {
    std::string cert, key, expected;
  };
  const fs::path junk = dir_ / "junk.pem";
  std::ofstream(junk) << "not a certificate\n";
  const std::vector<Case> cases = {
      {(dir_ / "missing.crt").string(), a.key, "missing.crt' does not exist"},
      {a.cert, "", "needs both"},
      {junk.string(), a.key, "junk.pem' is not a PEM certificate"},
      {a.cert, junk.string(), "junk.pem' is not a PEM private key"},
      {a.cert, b.key, "does not match the certificate"},
  };
  for (const Case& c : cases) {
    ServerOptions o;
    o.port = 0;
    o.tls.cert = c.cert;
    o.tls.key = c.key;
    Result<std::unique_ptr<Server>> s = Server::Start(*runtime_, o);
    ASSERT_FALSE(s.ok()) << c.expected;
    EXPECT_NE(s.status().message().find(c.expected), std::string::npos) << s.status().message();
  }
}

TEST_F(TlsTest, ReloadReplacesTheCertificateAndTheLimitsForNewConnections) {
  const TestCert first = MakeCert(dir_, "first");
  const TestCert second = MakeCert(dir_, "second");
  OpenTls(first);
  ASSERT_EQ(Https(port(), first.cert, "GET", "/healthz").status, 200);

  // A certificate that does not load changes nothing.
  ServerOptions bad;
  bad.tls.cert = second.cert;
  bad.tls.key = first.key;
  EXPECT_FALSE(server_->Reload(bad).ok());
  EXPECT_EQ(Https(port(), first.cert, "GET", "/healthz").status, 200);

  // The renewed certificate, and a rate limit per address.
  ServerOptions next;
  next.tls.cert = second.cert;
  next.tls.key = second.key;
  next.rate_per_address = 0.01;
  next.rate_burst = 1;
  next.data_dir = (dir_ / "data").string();
  next.port = 12345;  // needs a restart: reported, not applied
  Result<std::vector<std::string>> restart = server_->Reload(next);
  ASSERT_TRUE(restart.ok()) << restart.status().message();
  EXPECT_EQ(*restart, std::vector<std::string>{"listen"});
  EXPECT_EQ(Https(port(), first.cert, "GET", "/healthz").code, CURLE_PEER_FAILED_VERIFICATION);
  EXPECT_EQ(Https(port(), second.cert, "GET", "/healthz").status, 200);
  CurlReply limited = Https(port(), second.cert, "GET", "/healthz");
  EXPECT_EQ(limited.status, 429);
  EXPECT_NE(limited.headers.find("Retry-After"), std::string::npos) << limited.headers;

  // Back to plain HTTP, no limit.
  EXPECT_TRUE(server_->Reload(ServerOptions{}).ok());
  EXPECT_EQ(HttpCall(port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(HttpCall(port(), "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace weft::server
