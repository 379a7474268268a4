// The email action: SMTP through libcurl on worker threads.
#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <ctime>

#include "weft/actions/email.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"
#include "workers.h"

namespace weft::actions {
namespace {

namespace asio = boost::asio;

struct Curl {
  CURL* easy = curl_easy_init();
  ~Curl() { curl_easy_cleanup(easy); }
};

std::vector<std::string> Addresses(const Value& v) {
  if (v.is_string()) return {v.as_string()};
  return StringsOf(v);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// The bare address of "Ada <ada@example.com>".
std::string Mailbox(const std::string& address) {
  const size_t lt = address.find('<');
  const size_t gt = address.find('>', lt);
  if (lt != std::string::npos && gt != std::string::npos) return address.substr(lt + 1, gt - lt - 1);
  return address;
}

bool HasLineBreak(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

// RFC 2047 for a header with non-ASCII text.
std::string HeaderText(const std::string& s) {
  const bool ascii = std::all_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x80; });
  return ascii ? s : "=?UTF-8?B?" + Base64Encode(s) + "?=";
}

struct Message {
  std::string from;
  std::vector<std::string> to, cc, bcc;
  std::string reply_to, subject, text, html, message_id;
  struct Attachment {
    std::string filename, content_type, data;
  };
  std::vector<Attachment> attachments;
};

// `stop`, when set, ends the send: the step gave up on it (it may be null).
Status Send(Curl& c, const SmtpOptions& o, const Message& m, const std::atomic<bool>* stop) {
  if (internal::Raised(stop)) {
    return Status(StatusCode::kCancelled, "email: the step stopped waiting before the message was sent");
  }
  CURL* e = c.easy;
  if (e == nullptr) return ResourceExhaustedError("curl_easy_init failed");
  curl_easy_reset(e);
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_URL, o.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout_ms));
  if (stop != nullptr) {
    curl_xferinfo_callback abort_if_stopped = [](void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
      return internal::Raised(static_cast<const std::atomic<bool>*>(flag)) ? 1 : 0;
    };
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, abort_if_stopped);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(stop));
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  }
  if (o.tls == "required") {
    curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  } else if (o.tls == "optional") {
    curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  }
  if (!o.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, o.ca_file.c_str());
  if (!o.username.empty()) {
    curl_easy_setopt(e, CURLOPT_USERNAME, o.username.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, o.password.c_str());
  }
  const std::string from = "<" + Mailbox(m.from) + ">";
  curl_easy_setopt(e, CURLOPT_MAIL_FROM, from.c_str());
  curl_slist* rcpt = nullptr;
  for (const auto* list : {&m.to, &m.cc, &m.bcc}) {
    for (const std::string& a : *list) rcpt = curl_slist_append(rcpt, ("<" + Mailbox(a) + ">").c_str());
  }
  curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt);

  // Headers (never Bcc) and the MIME body.
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Date: " + std::string(date)).c_str());
  headers = curl_slist_append(headers, ("From: " + m.from).c_str());
  if (!m.to.empty()) headers = curl_slist_append(headers, ("To: " + Join(m.to)).c_str());
  if (!m.cc.empty()) headers = curl_slist_append(headers, ("Cc: " + Join(m.cc)).c_str());
  if (!m.reply_to.empty()) headers = curl_slist_append(headers, ("Reply-To: " + m.reply_to).c_str());
  headers = curl_slist_append(headers, ("Subject: " + HeaderText(m.subject)).c_str());
  headers = curl_slist_append(headers, ("Message-ID: " + m.message_id).c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);

  curl_mime* mime = curl_mime_init(e);
  curl_mime* alternative = curl_mime_init(e);
  auto add_text = [](curl_mime* into, const std::string& body, const char* type) {
    curl_mimepart* part = curl_mime_addpart(into);
    curl_mime_data(part, body.data(), body.size());
    curl_mime_type(part, type);
    curl_mime_encoder(part, "quoted-printable");
  };
  if (!m.text.empty()) add_text(alternative, m.text, "text/plain; charset=utf-8");
  if (!m.html.empty()) add_text(alternative, m.html, "text/html; charset=utf-8");
  curl_mimepart* body = curl_mime_addpart(mime);
  curl_mime_subparts(body, alternative);  // owned by `mime` from now on
  curl_mime_type(body, "multipart/alternative");
  curl_slist* inline_header = curl_slist_append(nullptr, "Content-Disposition: inline");
  curl_mime_headers(body, inline_header, 1);
  for (const Message::Attachment& a : m.attachments) {
    curl_mimepart* part = curl_mime_addpart(mime);
    curl_mime_data(part, a.data.data(), a.data.size());
    curl_mime_filename(part, a.filename.c_str());
    curl_mime_type(part, a.content_type.empty() ? "application/octet-stream" : a.content_type.c_str());
    curl_mime_encoder(part, "base64");
  }
  curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);

  const CURLcode rc = curl_easy_perform(e);
  curl_mime_free(mime);
  curl_slist_free_all(headers);
  curl_slist_free_all(rcpt);
  if (rc == CURLE_OK) return Status::Ok();
  // Whatever went wrong, the connection is not used again (curl would keep
  // one that timed out in the middle of DATA): a fresh handle, a fresh
  // connection for the next message.
  struct Renew {
    Curl& c;
    ~Renew() {
      curl_easy_cleanup(c.easy);
      c.easy = curl_easy_init();
    }
  } renew{c};
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    return Status(StatusCode::kCancelled,
                  "email: the step stopped waiting; the send through " + o.url + " was abandoned");
  }
  const std::string what =
      "sending email through " + o.url + ": " + (error[0] != '\0' ? error : curl_easy_strerror(rc));
  // The server's answer says whether trying again can help: 4xx yes, 5xx no.
  long smtp = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &smtp);
  if (rc != CURLE_LOGIN_DENIED && smtp >= 400 && smtp < 500) return UnavailableError(what);
  if (rc != CURLE_LOGIN_DENIED && smtp >= 500) return FailedPreconditionError(what);
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return DeadlineExceededError(what);
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING: return UnavailableError(what);
    case CURLE_USE_SSL_FAILED: return FailedPreconditionError(what + " (the server does not offer the required TLS)");
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return FailedPreconditionError(what +
                                     " (the server's certificate is not trusted: a private CA goes in email.ca_file)");
    case CURLE_LOGIN_DENIED: return Status(StatusCode::kUnauthenticated, what);
    default: break;
  }
  return FailedPreconditionError(what);
}

class EmailAction final : public engine::Action {
 public:
  explicit EmailAction(SmtpOptions options)
      : options_(std::move(options)), workers_(options_.threads, [] { return std::make_unique<Curl>(); }) {
    spec_.name = "email";
    spec_.description = "Sends an email (text and/or HTML, attachments) through the configured SMTP server";
    spec_.needs = dsl::kNeedEmail;
    spec_.settings_schema = dsl::Schema::FromLiteral(R"({"type":"object","additionalProperties":false})");  // none
    spec_.input_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["to","subject"],
      "anyOf":[{"required":["text"]},{"required":["html"]}],"properties":{
      "to":{"type":["string","array"],"items":{"type":"string"}},
      "cc":{"type":["string","array"],"items":{"type":"string"}},
      "bcc":{"type":["string","array"],"items":{"type":"string"}},
      "from":{"type":"string"},"reply_to":{"type":"string"},
      "subject":{"type":"string"},"text":{"type":"string"},"html":{"type":"string"},
      "attachments":{"type":"array","items":{"type":"object","required":["filename"],"properties":{
        "filename":{"type":"string","minLength":1},"content_type":{"type":"string"},
        "content_base64":{"type":"string"},"content":{"type":"string"}}}}}})");
    spec_.output_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["message_id"]})");
  }
  const dsl::ActionSpec& spec() const override { return spec_; }

  asio::awaitable<engine::ActionResult> Execute(engine::ActionContext& ctx) const override {
    if (options_.url.empty()) {
      co_return engine::ActionResult::Error(
          FailedPreconditionError("email: no SMTP server is configured (weft.yaml email.url)"));
    }
    Result<Message> m = Build(ctx);
    if (!m.ok()) co_return engine::ActionResult::Error(m.status());
    // Within the step's timeout too: the wait for the server's last answer
    // cannot be interrupted otherwise.
    SmtpOptions options = options_;
    options.timeout_ms = ctx.MillisLeft(options.timeout_ms);
    std::function<Status(Curl&)> send = [options, message = *m, stop = ctx.abandoned](Curl& c) {
      return Send(c, options, message, stop.get());
    };
    Status sent = co_await workers_.Run(std::move(send));
    Value detail = Value::MakeObject();
    detail.set("server", options_.url);
    detail.set("recipients", static_cast<double>(m->to.size() + m->cc.size() + m->bcc.size()));
    ctx.detail = detail;
    if (!sent.ok()) co_return engine::ActionResult::Error(sent);
    Value out = Value::MakeObject();
    out.set("message_id", m->message_id);
    out.set("accepted", static_cast<double>(m->to.size() + m->cc.size() + m->bcc.size()));
    co_return engine::ActionResult::Ok(out);
  }

 private:
  Result<Message> Build(const engine::ActionContext& ctx) const {
    const Value& in = ctx.inputs;
    Message m;
    m.from = in.get("from").is_string() ? in.get("from").as_string() : options_.from;
    if (m.from.empty()) return FailedPreconditionError("email: no sender (set email.from in weft.yaml, or `from`)");
    m.to = Addresses(in.get("to"));
    m.cc = Addresses(in.get("cc"));
    m.bcc = Addresses(in.get("bcc"));
    if (m.to.empty() && m.cc.empty() && m.bcc.empty()) return InvalidArgumentError("email: no recipient");
    m.reply_to = in.get("reply_to").is_string() ? in.get("reply_to").as_string() : "";
    m.subject = in.get("subject").as_string();
    m.text = in.get("text").is_string() ? in.get("text").as_string() : "";
    m.html = in.get("html").is_string() ? in.get("html").as_string() : "";
    // Header injection: no line break may reach a header.
    for (const auto* list : {&m.to, &m.cc, &m.bcc}) {
      for (const std::string& a : *list) {
        if (HasLineBreak(a) || Mailbox(a).find('@') == std::string::npos) {
          return InvalidArgumentError("email: '" + a + "' is not an address");
        }
      }
    }
    if (HasLineBreak(m.from) || HasLineBreak(m.reply_to) || HasLineBreak(m.subject)) {
      return InvalidArgumentError("email: a header (from, reply_to, subject) contains a line break");
    }
    if (Value atts = in.get("attachments"); atts.is_array()) {
      for (const Value& a : atts.as_array()) {
        Message::Attachment att;
        att.filename = a.get("filename").as_string();
        if (HasLineBreak(att.filename) || att.filename.find('"') != std::string::npos) {
          return InvalidArgumentError("email: attachment name '" + att.filename + "' contains a quote or line break");
        }
        att.content_type = a.get("content_type").is_string() ? a.get("content_type").as_string() : "";
        if (Value b64 = a.get("content_base64"); b64.is_string()) {
          std::optional<std::string> data = Base64Decode(b64.as_string());
          if (!data) return InvalidArgumentError("email: attachment '" + att.filename + "' is not base64");
          att.data = std::move(*data);
        } else {
          att.data = a.get("content").is_string() ? a.get("content").as_string() : "";
        }
        m.attachments.push_back(std::move(att));
      }
    }
    // The step's idempotency key, in the form a Message-ID allows.
    std::string key(ctx.run_id);
    key.append(".").append(ctx.step_path);
    for (char& c : key) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '-';
    }
    m.message_id = "<" + key + "@weft>";
    return m;
  }

  SmtpOptions options_;
  mutable internal::Workers<Curl> workers_;
  dsl::ActionSpec spec_;
};

}  // namespace

Status RegisterEmailAction(engine::ActionRegistry& registry, const SmtpOptions& options) {
  if (options.tls != "required" && options.tls != "optional" && options.tls != "none") {
    return InvalidArgumentError("email.tls must be required, optional or none, not '" + options.tls + "'");
  }
  return registry.Register(std::make_unique<EmailAction>(options));
}

}  // namespace weft::actions
