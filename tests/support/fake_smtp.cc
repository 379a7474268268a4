#include "fake_smtp.h"

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <istream>
#include <optional>
#include <set>
#include <thread>

#include "weft/core/encoding.h"

namespace weft::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string SmtpMessage::header(const std::string& name) const {
  const std::string head = data.substr(0, data.find("\r\n\r\n"));
  size_t at = 0;
  while (at < head.size()) {
    size_t eol = head.find("\r\n", at);
    if (eol == std::string::npos) eol = head.size();
    std::string line = head.substr(at, eol - at);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        std::equal(name.begin(), name.end(), line.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      std::string value = line.substr(name.size() + 1);
      // Folded continuation lines.
      while (eol + 2 < head.size() && (head[eol + 2] == ' ' || head[eol + 2] == '\t')) {
        const size_t next = head.find("\r\n", eol + 2);
        value += head.substr(eol + 2, (next == std::string::npos ? head.size() : next) - eol - 2);
        eol = next == std::string::npos ? head.size() : next;
      }
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      return value;
    }
    at = eol + 2;
  }
  return "";
}

struct FakeSmtp::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::thread accept_thread;
  std::vector<std::thread> sessions;
  mutable std::mutex mu;
  std::vector<SmtpMessage> messages;
  std::string user, password;
  std::set<std::string> rejected;
  bool fail_next_data = false;
  bool stall_next_data = false;
  int hung_up = 0;
  std::optional<asio::ssl::context> tls;  // STARTTLS offered, and required before MAIL
  bool implicit_tls = false;              // TLS from the first byte (smtps)
  std::set<int> open_sockets;             // shut down when the server stops
  bool stopping = false;

  void Serve(tcp::socket plain) {
    boost::system::error_code ec;
    asio::streambuf buf;
    std::optional<asio::ssl::stream<tcp::socket>> secure;  // after STARTTLS
    // Known to the destructor until it is closed, whichever way this ends.
    struct Registered {
      Impl& impl;
      tcp::socket& plain;
      std::optional<asio::ssl::stream<tcp::socket>>& secure;
      int fd;
      ~Registered() {
        std::lock_guard lock(impl.mu);
        impl.open_sockets.erase(fd);
        boost::system::error_code ignored;
        (secure ? secure->next_layer() : plain).close(ignored);
      }
    } registered{*this, plain, secure, plain.native_handle()};
    {
      std::lock_guard lock(mu);
      open_sockets.insert(registered.fd);
    }
    auto send = [&](const std::string& line) {
      if (secure) {
        asio::write(*secure, asio::buffer(line + "\r\n"), ec);
      } else {
        asio::write(plain, asio::buffer(line + "\r\n"), ec);
      }
    };
    auto read_raw = [&] {
      if (secure) {
        asio::read_until(*secure, buf, "\r\n", ec);
      } else {
        asio::read_until(plain, buf, "\r\n", ec);
      }
    };
    auto read_line = [&](std::string& line) {
      read_raw();
      if (ec) return false;
      std::istream in(&buf);
      std::getline(in, line);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    };
    {
      std::lock_guard lock(mu);
      if (tls && implicit_tls) secure.emplace(std::move(plain), *tls);
    }
    // Not under the lock: a client that stalls here must not stop the rest.
    if (secure) secure->handshake(asio::ssl::stream_base::server, ec);
    if (ec) return;
    send("220 fake-smtp ready");
    SmtpMessage m;
    std::string authed;
    std::string line;
    while (read_line(line)) {
      std::string verb = line.substr(0, line.find(' '));
      for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::lock_guard lock(mu);
      if (verb == "EHLO" || verb == "HELO") {
        std::vector<std::string> lines = {"fake-smtp"};
        if (tls && !secure) lines.push_back("STARTTLS");
        if (!user.empty()) lines.push_back("AUTH PLAIN LOGIN");
        for (size_t i = 0; i < lines.size(); ++i) send((i + 1 < lines.size() ? "250-" : "250 ") + lines[i]);
      } else if (verb == "STARTTLS" && tls && !secure) {
        send("220 ready to start TLS");
        buf.consume(buf.size());
        secure.emplace(std::move(plain), *tls);
        mu.unlock();
        secure->handshake(asio::ssl::stream_base::server, ec);
        mu.lock();
        if (ec) break;
        authed.clear();  // the session starts over (RFC 3207)
        m = SmtpMessage{};
      } else if (tls && !secure && (verb == "AUTH" || verb == "MAIL")) {
        send("530 must issue a STARTTLS command first");
      } else if (verb == "AUTH") {
        std::string rest = line.substr(5);
        if (rest.rfind("PLAIN", 0) == 0) {
          std::string token = rest.size() > 6 ? rest.substr(6) : "";
          if (token.empty()) {
            send("334 ");
            mu.unlock();
            read_line(token);
            mu.lock();
          }
          std::string decoded = Base64Decode(token).value_or("");  // \0user\0password
          const size_t a = decoded.find('\0');
          const size_t b = decoded.find('\0', a + 1);
          if (a != std::string::npos && b != std::string::npos && decoded.substr(a + 1, b - a - 1) == user &&
              decoded.substr(b + 1) == password) {
            authed = user;
            send("235 authenticated");
          } else {
            send("535 bad credentials");
          }
        } else if (rest.rfind("LOGIN", 0) == 0) {
          std::string u, p;
          send("334 VXNlcm5hbWU6");
          mu.unlock();
          read_line(u);
          mu.lock();
          send("334 UGFzc3dvcmQ6");
          mu.unlock();
          read_line(p);
          mu.lock();
          if (Base64Decode(u).value_or("") == user && Base64Decode(p).value_or("") == password) {
            authed = user;
            send("235 authenticated");
          } else {
            send("535 bad credentials");
          }
        } else {
          send("504 mechanism not supported");
        }
      } else if (verb == "MAIL") {
        if (!user.empty() && authed.empty()) {
          send("530 authentication required");
          continue;
        }
        m = SmtpMessage{};
        m.user = authed;
        m.tls = secure.has_value();
        m.from = line.substr(line.find(':') + 1);
        send("250 ok");
      } else if (verb == "RCPT") {
        std::string to = line.substr(line.find(':') + 1);
        if (rejected.count(to) != 0) {
          send("550 no such user");
        } else {
          m.recipients.push_back(to);
          send("250 ok");
        }
      } else if (verb == "DATA") {
        send("354 end with <CRLF>.<CRLF>");
        std::string data;
        mu.unlock();
        while (read_line(line) && line != ".") data += (line.rfind("..", 0) == 0 ? line.substr(1) : line) + "\r\n";
        mu.lock();
        if (stall_next_data) {
          stall_next_data = false;
          mu.unlock();
          read_raw();  // returns when the client hangs up
          mu.lock();
          ++hung_up;
          break;
        }
        if (fail_next_data) {
          fail_next_data = false;
          send("451 try again later");
        } else {
          m.data = data;
          messages.push_back(m);
          send("250 queued");
        }
      } else if (verb == "RSET" || verb == "NOOP") {
        send("250 ok");
      } else if (verb == "QUIT") {
        send("221 bye");
        break;
      } else {
        send("502 not implemented");
      }
    }
  }

  void Accept() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(io);
      acceptor.accept(socket, ec);
      std::lock_guard lock(mu);
      if (ec || stopping) return;
      sessions.emplace_back([this, s = std::move(socket)]() mutable { Serve(std::move(s)); });
    }
  }
};

FakeSmtp::FakeSmtp() : impl_(std::make_unique<Impl>()) {
  impl_->accept_thread = std::thread([this] { impl_->Accept(); });
}

FakeSmtp::~FakeSmtp() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  // A blocking accept() does not notice close() from another thread: wake
  // it with a connection.
  boost::system::error_code ec;
  tcp::socket wake(impl_->io);
  wake.connect(impl_->acceptor.local_endpoint(), ec);
  impl_->accept_thread.join();
  impl_->acceptor.close(ec);
  {
    // Sessions a client keeps open (a kept-alive connection) end now.
    std::lock_guard lock(impl_->mu);
    for (int fd : impl_->open_sockets) ::shutdown(fd, SHUT_RDWR);
  }
  for (std::thread& t : impl_->sessions) t.join();
}

int FakeSmtp::port() const { return impl_->acceptor.local_endpoint().port(); }

std::vector<SmtpMessage> FakeSmtp::messages() const {
  std::lock_guard lock(impl_->mu);
  return impl_->messages;
}

void FakeSmtp::RequireAuth(std::string user, std::string password) {
  std::lock_guard lock(impl_->mu);
  impl_->user = std::move(user);
  impl_->password = std::move(password);
}

void FakeSmtp::RejectRecipient(std::string address) {
  std::lock_guard lock(impl_->mu);
  impl_->rejected.insert("<" + address + ">");
}

void FakeSmtp::FailNextData() {
  std::lock_guard lock(impl_->mu);
  impl_->fail_next_data = true;
}

void FakeSmtp::OfferTls(const TestCertificate& cert, bool implicit) {
  std::lock_guard lock(impl_->mu);
  impl_->implicit_tls = implicit;
  impl_->tls.emplace(asio::ssl::context::tls_server);
  impl_->tls->use_certificate_chain(asio::buffer(cert.cert_pem));
  impl_->tls->use_private_key(asio::buffer(cert.key_pem), asio::ssl::context::pem);
}

void FakeSmtp::StallNextData() {
  std::lock_guard lock(impl_->mu);
  impl_->stall_next_data = true;
}

int FakeSmtp::hung_up() const {
  std::lock_guard lock(impl_->mu);
  return impl_->hung_up;
}

}  // namespace weft::testing
