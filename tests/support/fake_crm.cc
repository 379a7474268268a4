#include "fake_crm.h"

#include "weft/core/json.h"

namespace weft::testing {

FakeCrm::FakeCrm() : server_([this](const FakeRequest& req) { return Answer(req); }) {}

void FakeCrm::AddAccount(const std::string& email, const std::string& name, const std::string& plan) {
  std::lock_guard lock(mu_);
  Value a = Value::MakeObject();
  a.set("id", "acc_" + std::to_string(accounts_.size() + 1));
  a.set("email", email);
  a.set("name", name);
  a.set("plan", plan);
  accounts_[email] = a;
}

void FakeCrm::Inject(Fault fault) {
  std::lock_guard lock(mu_);
  faults_.push_back(std::move(fault));
}

void FakeCrm::SetLatency(int ms) {
  std::lock_guard lock(mu_);
  latency_ms_ = ms;
}

std::vector<Value> FakeCrm::tickets() const {
  std::lock_guard lock(mu_);
  return tickets_;
}

std::vector<FakeRequest> FakeCrm::hooks() const {
  std::lock_guard lock(mu_);
  return hooks_;
}

std::vector<FakeRequest> FakeCrm::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

int FakeCrm::requests_to(const std::string& path_prefix) const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const FakeRequest& r : requests_) n += r.target.rfind(path_prefix, 0) == 0 ? 1 : 0;
  return n;
}

FakeResponse FakeCrm::Answer(const FakeRequest& req) {
  std::unique_lock lock(mu_);
  requests_.push_back(req);
  const int latency = latency_ms_;
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (req.target.rfind(it->path_prefix, 0) != 0) continue;
    Fault f = *it;
    faults_.erase(it);
    if (f.after_commit) {
      lock.unlock();
      (void)Apply(req);
    }
    f.response.delay_ms += latency;
    return f.response;
  }
  lock.unlock();
  FakeResponse r = Apply(req);
  r.delay_ms += latency;
  return r;
}

FakeResponse FakeCrm::Apply(const FakeRequest& req) {
  std::lock_guard lock(mu_);
  const std::string key = req.header("Idempotency-Key");
  if (req.method == "POST" && !key.empty()) {
    if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  }
  FakeResponse answer;
  const std::string path = req.target.substr(0, req.target.find('?'));
  if (req.method == "GET" && path == "/accounts") {
    const std::string query = req.target.substr(req.target.find('?') + 1);
    std::string email;
    if (query.rfind("email=", 0) == 0) email = query.substr(6);
    for (size_t p; (p = email.find("%40")) != std::string::npos;) email.replace(p, 3, "@");
    auto it = accounts_.find(email);
    if (it == accounts_.end()) return FakeResponse::Json(R"({"error":"no such account"})", 404);
    return FakeResponse::Json(ToJson(it->second));
  }
  if (req.method == "POST" && path == "/tickets") {
    Result<Value> doc = ParseJson(req.body);
    if (!doc.ok() || !doc->is_object()) return FakeResponse::Json(R"({"error":"a ticket is a JSON object"})", 400);
    Value ticket = *doc;
    ticket.set("id", "T-" + std::to_string(1000 + tickets_.size()));
    tickets_.push_back(ticket);
    answer = FakeResponse::Json(ToJson(ticket), 201);
  } else if (req.method == "POST" && path.rfind("/hooks/", 0) == 0) {
    hooks_.push_back(req);
    answer.status = 204;
  } else {
    return FakeResponse::Json(R"({"error":"not found"})", 404);
  }
  if (!key.empty()) by_key_[key] = answer;
  return answer;
}

}  // namespace weft::testing
