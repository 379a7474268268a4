// An SMTP sink on 127.0.0.1 for tests: speaks enough of RFC 5321 (EHLO,
// AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a real client,
// records what it accepts, and can refuse (a 550 recipient, a 451 at DATA).
// It offers no TLS unless told to (OfferTls): a client that requires TLS
// must then refuse to send.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "test_certificate.h"

namespace weft::testing {

struct SmtpMessage {
  std::string from;
  std::vector<std::string> recipients;
  std::string data;                                   // headers and body as received
  std::string user;                                   // authenticated as
  bool tls = false;                                   // sent after STARTTLS
  std::string header(const std::string& name) const;  // first header of that name, unfolded
};

class FakeSmtp {
 public:
  FakeSmtp();
  ~FakeSmtp();
  FakeSmtp(const FakeSmtp&) = delete;
  FakeSmtp& operator=(const FakeSmtp&) = delete;

  int port() const;
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port()); }
  std::vector<SmtpMessage> messages() const;
  // Credentials it accepts (none: AUTH is not offered).
  void RequireAuth(std::string user, std::string password);
  void RejectRecipient(std::string address);  // 550 for it
  // Offers STARTTLS with this certificate and refuses AUTH and MAIL before
  // it; `implicit`: TLS from the first byte instead (smtps://).
  void OfferTls(const TestCertificate& cert, bool implicit = false);
  void FailNextData();  // one 451 at the end of DATA
  // Reads the next message and never answers it, until the client hangs up.
  void StallNextData();
  int hung_up() const;  // stalled sessions whose client hung up

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::testing
