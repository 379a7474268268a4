// The email action against a real SMTP sink on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fake_smtp.h"
#include "run_workflow.h"
#include "weft/actions/builtin.h"
#include "weft/actions/email.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace weft::actions {
namespace {

using testing::FakeSmtp;

class EmailTest : public ::testing::Test {
 protected:
  void Start(SmtpOptions o) {
    ASSERT_TRUE(RegisterBuiltinActions(registry_).ok());
    ASSERT_TRUE(RegisterEmailAction(registry_, o).ok());
    store_ = store::NewMemoryStore();
    engine::EngineOptions eo;
    eo.store = store_.get();
    eo.actions = &registry_;
    engine_ = std::move(engine::Engine::Create(std::move(eo))).value();
  }
  SmtpOptions Plain() {
    SmtpOptions o;
    o.url = smtp_.url();
    o.tls = "none";
    o.from = "Support <support@weft.test>";
    o.timeout_ms = 5000;
    return o;
  }
  store::RunRecord Send(const std::string& inputs, const std::string& settings = "{}") {
    const std::string yaml =
        "workflow: { name: mail }\npermissions: { email: true }\n"
        "defs:\n  send: { kind: task, action: email, inputs: " +
        inputs + ", settings: " + settings + " }\nflow:\n  - do: send\n";
    return RunWorkflow(*engine_, registry_, yaml, *ParseJson(R"({"name":"Ada","ticket":"T-1000"})"));
  }

  FakeSmtp smtp_;
  engine::ActionRegistry registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(EmailTest, SendsTemplatedMultipartMailWithAttachments) {
  smtp_.RequireAuth("mailer", "pw-123");
  SmtpOptions o = Plain();
  o.username = "mailer";
  o.password = "pw-123";
  Start(o);
  auto run = Send(R"({ to: [ada@example.com], cc: "Ops <ops@example.com>", bcc: [audit@example.com],
      subject: "='Ticket ' & $input.ticket & ' — received'",
      text: "='Hello ' & $input.name & ', we opened ' & $input.ticket & '.'",
      html: "='<p>Hello <b>' & $input.name & '</b></p>'",
      attachments: [{ filename: summary.txt, content_type: text/plain, content_base64: "aGVsbG8=" }] })");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  auto messages = smtp_.messages();
  ASSERT_EQ(messages.size(), 1u);
  const auto& m = messages[0];
  EXPECT_EQ(m.user, "mailer");
  EXPECT_EQ(m.from, "<support@weft.test>");
  ASSERT_EQ(m.recipients.size(), 3u);  // to, cc and bcc are all delivered
  EXPECT_EQ(m.recipients[2], "<audit@example.com>");
  EXPECT_EQ(m.header("To"), "ada@example.com");
  EXPECT_EQ(m.header("Cc"), "Ops <ops@example.com>");
  EXPECT_EQ(m.header("Bcc"), "");  // never in the headers
  EXPECT_EQ(m.header("Subject"), "=?UTF-8?B?VGlja2V0IFQtMTAwMCDigJQgcmVjZWl2ZWQ=?=");
  EXPECT_EQ(m.header("Message-ID"), "<" + run.id + ".0-send@weft>");
  EXPECT_NE(m.data.find("Hello Ada, we opened T-1000."), std::string::npos) << m.data;
  EXPECT_NE(m.data.find("<p>Hello <b>Ada</b></p>"), std::string::npos) << m.data;
  EXPECT_NE(m.data.find("filename=\"summary.txt\""), std::string::npos) << m.data;
  EXPECT_NE(m.data.find("aGVsbG8="), std::string::npos) << m.data;
  EXPECT_EQ(run.outputs.get("send").is_undefined(), true);
}

TEST_F(EmailTest, RefusesToSendInClearWhenTlsIsRequired) {
  SmtpOptions o = Plain();
  o.tls = "required";
  Start(o);
  auto run = Send(R"({ to: ada@example.com, subject: hi, text: secret things })");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_NE(run.error.find("TLS"), std::string::npos) << run.error;
  EXPECT_TRUE(smtp_.messages().empty());
}

TEST_F(EmailTest, SendsOverStartTlsAndImplicitTls) {
  for (bool implicit : {false, true}) {
    SCOPED_TRACE(implicit ? "smtps" : "STARTTLS");
    FakeSmtp server;
    server.OfferTls(testing::LoopbackCertificate(), implicit);
    server.RequireAuth("mailer", "secret");
    SmtpOptions o = Plain();
    o.url = (implicit ? "smtps://127.0.0.1:" : "smtp://127.0.0.1:") + std::to_string(server.port());
    o.tls = "required";
    o.ca_file = testing::LoopbackCertificate().ca_file;
    o.username = "mailer";
    o.password = "secret";
    registry_ = engine::ActionRegistry();
    Start(o);
    auto run = Send(R"({ to: ada@example.com, subject: hi, text: x })");
    ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
    ASSERT_EQ(server.messages().size(), 1u);
    EXPECT_TRUE(server.messages()[0].tls);
    EXPECT_EQ(server.messages()[0].user, "mailer");
    engine_.reset();
  }
}

TEST_F(EmailTest, RefusesAServerWhoseCertificateItCannotVerify) {
  smtp_.OfferTls(testing::LoopbackCertificate());
  SmtpOptions o = Plain();
  o.tls = "required";  // and the system's CAs, which do not know the test's
  Start(o);
  auto run = Send(R"({ to: ada@example.com, subject: hi, text: x })");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_EQ(run.error_code, "FAILED_PRECONDITION") << run.error;
  EXPECT_NE(run.error.find("certificate"), std::string::npos) << run.error;
  EXPECT_TRUE(smtp_.messages().empty());
}

TEST_F(EmailTest, FailuresSayWhatHappened) {
  smtp_.RequireAuth("mailer", "right");
  SmtpOptions o = Plain();
  o.username = "mailer";
  o.password = "wrong";
  Start(o);
  auto run = Send(R"({ to: ada@example.com, subject: hi, text: x })");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_EQ(run.error_code, "UNAUTHENTICATED") << run.error;

  // Header injection never reaches the server.
  run = Send(R"({ to: ada@example.com, subject: "=\"hi\nBcc: victim@example.com\"", text: x })");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_NE(run.error.find("line break"), std::string::npos) << run.error;
  run = Send(R"({ to: "not an address", subject: hi, text: x })");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_NE(run.error.find("is not an address"), std::string::npos) << run.error;
  EXPECT_TRUE(smtp_.messages().empty());
}

TEST_F(EmailTest, TemporaryRefusalIsRetriedAndPermanentOneIsNot) {
  Start(Plain());
  smtp_.FailNextData();
  auto run = Send(R"({ to: ada@example.com, subject: hi, text: x })",
                  "{ retries: { enabled: true, max_attempts: 3, backoff_ms: 1 } }");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(smtp_.messages().size(), 1u);
  smtp_.RejectRecipient("gone@example.com");
  run = Send(R"({ to: gone@example.com, subject: hi, text: x })",
             "{ retries: { enabled: true, max_attempts: 3, backoff_ms: 1 } }");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_EQ(run.error_code, "FAILED_PRECONDITION") << run.error;
  EXPECT_EQ(smtp_.messages().size(), 1u);
}

TEST_F(EmailTest, AStepTimeoutStopsTheSendUnderWay) {
  SmtpOptions o = Plain();
  o.timeout_ms = 3'600'000;  // only the step's timeout can end the wait
  Start(o);
  smtp_.StallNextData();
  auto run = Send(R"({ to: ada@example.com, subject: hi, text: x })", "{ timeout_ms: 300 }");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_EQ(run.error_code, "DEADLINE_EXCEEDED") << run.error;
  // The client hangs up instead of waiting an hour for the answer.
  for (int i = 0; i < 3000 && smtp_.hung_up() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(smtp_.hung_up(), 1);
  EXPECT_TRUE(smtp_.messages().empty());
}

TEST_F(EmailTest, NeedsTheEmailPermission) {
  Start(Plain());
  auto wf = dsl::LoadWorkflow(
      "defs:\n  send: { kind: task, action: email, inputs: { to: a@b.c, subject: s, text: t } }\nflow:\n  - do: send\n",
      "m.yaml", registry_);
  ASSERT_FALSE(wf.ok());
  EXPECT_NE(wf.status().message().find("needs the 'email' permission"), std::string::npos) << wf.status();
}

}  // namespace
}  // namespace weft::actions
