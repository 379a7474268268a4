// A self-signed certificate for TLS servers that tests start on loopback:
// valid for 127.0.0.1, ::1 and localhost, made fresh for each process (no
// key material in the repository). Clients trust it through `ca_file`.
#pragma once

#include <string>

namespace weft::testing {

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
  std::string ca_file;  // cert_pem, written to a temporary file
};

// The process's certificate (made on first use).
const TestCertificate& LoopbackCertificate();

}  // namespace weft::testing
