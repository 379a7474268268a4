#include "fake_embeddings.h"

#include <cctype>
#include <cmath>
#include <functional>
#include <map>

#include "weft/core/json.h"

namespace weft::testing {
namespace {

// Words that mean one thing, in English and French; each group is one
// dimension.
const std::map<std::string, int>& Concepts() {
  static const auto* concepts = [] {
    const std::vector<std::vector<std::string>> groups = {
        {"invoice", "invoices", "bill", "bills", "receipt", "receipts", "facture", "factures", "statement"},
        {"download", "downloads", "get", "copy", "save", "télécharger", "pdf", "export", "obtain"},
        {"password", "passwords", "login", "sign", "signin", "log", "credentials", "mot", "passe", "connexion"},
        {"refund", "refunds", "money", "back", "reimburse", "remboursement", "charged", "twice", "duplicate", "double"},
        {"card", "payment", "method", "credit", "carte", "paiement"},
        {"cancel", "cancellation", "unsubscribe", "stop", "downgrade", "résilier", "annuler", "subscription", "plan"},
        {"phone", "authenticator", "two", "factor", "2fa", "code", "codes", "recovery"},
        {"team", "colleague", "member", "members", "invite", "teammate", "employee", "remove"},
        {"data", "stored", "hosted", "region", "europe", "eu", "residency", "location", "where", "servers"},
        {"csv", "excel", "spreadsheet", "table", "rows"},
    };
    auto* out = new std::map<std::string, int>();
    for (size_t g = 0; g < groups.size(); ++g)
      for (const std::string& w : groups[g]) (*out)[w] = static_cast<int>(g);
    return out;
  }();
  return *concepts;
}

}  // namespace

std::vector<float> FakeEmbeddings::Vector(const std::string& text) {
  std::vector<float> v(kDimensions, 0.0F);
  const int groups = 10;
  std::string word;
  auto add = [&] {
    if (word.empty()) return;
    auto it = Concepts().find(word);
    if (it != Concepts().end()) {
      v[static_cast<size_t>(it->second)] += 1.0F;
    } else if (word.size() > 3) {  // other words: a weaker, hashed dimension
      v[static_cast<size_t>(groups + std::hash<std::string>{}(word) % (kDimensions - groups))] += 0.3F;
    }
    word.clear();
  };
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || std::isalnum(u)) {
      word += static_cast<char>(std::tolower(u));
    } else {
      add();
    }
  }
  add();
  return v;
}

FakeEmbeddings::FakeEmbeddings() : server_([this](const FakeRequest& r) { return Answer(r); }) {}

FakeResponse FakeEmbeddings::Answer(const FakeRequest& req) {
  ++calls_;
  if (req.target != "/v1/embeddings") return FakeResponse::Json(R"({"error":{"message":"no such route"}})", 404);
  if (int status = status_.load(); status != 0) {
    return FakeResponse::Json(R"({"error":{"message":"scripted failure"}})", status);
  }
  if (malformed_.load()) return FakeResponse::Json("{\"data\": [ not json");
  Result<Value> body = ParseJson(req.body);
  if (!body.ok() || !body->get("input").is_array() || !body->get("model").is_string()) {
    return FakeResponse::Json(R"({"error":{"message":"expected {model, input: [...]}"}})", 400);
  }
  Value data = Value::MakeArray();
  int index = 0;
  for (const Value& text : body->get("input").as_array()) {
    Value item = Value::MakeObject();
    item.set("object", "embedding");
    item.set("index", static_cast<double>(index++));
    Value embedding = Value::MakeArray();
    for (float x : Vector(text.is_string() ? text.as_string() : "")) embedding.push_back(static_cast<double>(x));
    item.set("embedding", embedding);
    data.push_back(item);
  }
  texts_ += index;
  Value out = Value::MakeObject();
  out.set("object", "list");
  out.set("data", data);
  out.set("model", body->get("model"));
  return FakeResponse::Json(ToJson(out));
}

}  // namespace weft::testing
