// Knowledge bases over the API: their documents (put as they are, any of
// the formats a folder holds), searches, and re-indexing the folder.
#include "server_impl.h"
#include "weft/core/encoding.h"
#include "weft/knowledge/knowledge.h"

namespace weft::server {
namespace {

using beast::http::verb;

constexpr size_t kMaxIdBytes = 1024;

// The base the path names, or the answer to give instead.
std::optional<knowledge::BaseConfig> FindBase(Server::Impl& s, Request& req, Response& refusal) {
  std::optional<knowledge::BaseConfig> base = s.runtime.knowledge()->base(req.params["base"]);
  if (!base) refusal = Response::Error(404, "NOT_FOUND", "no knowledge base '" + req.params["base"] + "'");
  return base;
}

asio::awaitable<Response> ListBases(Server::Impl& s, Request&) {
  const std::shared_ptr<knowledge::Knowledge> k = s.runtime.knowledge();
  Value list = Value::MakeArray();
  for (const std::string& name : k->bases()) {
    const std::optional<knowledge::BaseConfig> b = k->base(name);
    if (!b) continue;  // removed meanwhile
    Value o = Value::MakeObject();
    o.set("name", name);
    o.set("folder", !b->folder.empty());
    o.set("search", b->embedding.empty() ? "keyword" : "hybrid");
    o.set("declared_in", k->Configured(name) ? "weft.yaml" : "api");
    if (!b->embedding.empty()) o.set("embedding", b->embedding);
    list.push_back(o);
  }
  Value o = Value::MakeObject();
  o.set("bases", list);
  co_return Response::Json(200, o);
}

asio::awaitable<Response> ListDocuments(Server::Impl& s, Request& req) {
  Response refusal;
  const std::optional<knowledge::BaseConfig> base = FindBase(s, req, refusal);
  if (!base) co_return refusal;
  const std::string name = base->name;
  Result<std::vector<knowledge::DocumentInfo>> docs =
      co_await s.Blocking([&] { return s.runtime.knowledge()->Documents(name); });
  if (!docs.ok()) co_return Response::FromStatus(docs.status());
  Value list = Value::MakeArray();
  for (const knowledge::DocumentInfo& d : *docs) list.push_back(knowledge::DocumentInfoToValue(d));
  Value o = Value::MakeObject();
  o.set("documents", list);
  co_return Response::Json(200, o);
}

// PUT ?id=<id>[&title=][&source=][&language=][&tags=a,b]: the body is the
// document as a file would hold it (Markdown, text, HTML, PDF).
asio::awaitable<Response> PutDocument(Server::Impl& s, Request& req) {
  Response refusal;
  const std::optional<knowledge::BaseConfig> base = FindBase(s, req, refusal);
  if (!base) co_return refusal;
  const std::string id = req.query_param("id");
  if (id.empty() || id.size() > kMaxIdBytes)
    co_return BadRequest("?id= (the document's id, at most 1024 bytes) is required");
  if (req.body.empty()) co_return BadRequest("the body is the document (Markdown, text, HTML or PDF)");
  Result<knowledge::Document> doc = knowledge::ReadDocument(id, req.body, base->limits);
  if (!doc.ok()) co_return Response::FromStatus(doc.status());
  if (std::string v = req.query_param("title"); !v.empty()) doc->title = v;
  if (std::string v = req.query_param("source"); !v.empty()) doc->source = v;
  if (std::string v = req.query_param("language"); !v.empty()) doc->language = v;
  if (std::string v = req.query_param("tags"); !v.empty()) doc->tags = SplitList(v, ',');
  const std::string name = base->name;
  Result<knowledge::DocumentInfo> put = co_await s.Blocking([&] {
    Result<knowledge::DocumentInfo> r = s.runtime.knowledge()->Put(name, std::move(*doc));
    if (r.ok()) s.Audit(req, "knowledge.put", "knowledge:" + name + "/" + id);
    return r;
  });
  if (!put.ok()) co_return Response::FromStatus(put.status());
  co_return Response::Json(200, knowledge::DocumentInfoToValue(*put));
}

asio::awaitable<Response> DeleteDocument(Server::Impl& s, Request& req) {
  Response refusal;
  const std::optional<knowledge::BaseConfig> base = FindBase(s, req, refusal);
  if (!base) co_return refusal;
  const std::string id = req.query_param("id");
  if (id.empty()) co_return BadRequest("?id= (the document's id) is required");
  const std::string name = base->name;
  Status done = co_await s.Blocking([&] {
    Status st = s.runtime.knowledge()->Remove(name, id);
    if (st.ok()) s.Audit(req, "knowledge.delete", "knowledge:" + name + "/" + id);
    return st;
  });
  if (!done.ok()) co_return Response::FromStatus(done);
  Value o = Value::MakeObject();
  o.set("id", id);
  o.set("deleted", true);
  co_return Response::Json(200, o);
}

// GET ?q=<text>[&k=5][&mode=keyword|vector|hybrid][&language=][&tags=a,b]
asio::awaitable<Response> Search(Server::Impl& s, Request& req) {
  Response refusal;
  const std::optional<knowledge::BaseConfig> base = FindBase(s, req, refusal);
  if (!base) co_return refusal;
  knowledge::Query q;
  q.base = base->name;
  q.text = req.query_param("q");
  if (std::string k = req.query_param("k"); !k.empty()) {
    char* end = nullptr;
    const long n = std::strtol(k.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 100) co_return BadRequest("?k= is a whole number from 1 to 100");
    q.k = static_cast<int>(n);
  }
  const std::string mode = req.query_param("mode");
  if (mode == "keyword") {
    q.mode = knowledge::SearchMode::kKeyword;
  } else if (mode == "vector") {
    q.mode = knowledge::SearchMode::kVector;
  } else if (mode == "hybrid") {
    q.mode = knowledge::SearchMode::kHybrid;
  } else if (!mode.empty() && mode != "auto") {
    co_return BadRequest("?mode= is auto, keyword, vector or hybrid");
  }
  q.filter.language = req.query_param("language");
  q.filter.tags = SplitList(req.query_param("tags"), ',');
  Result<std::vector<knowledge::Hit>> hits = co_await s.Blocking([&] { return s.runtime.knowledge()->Search(q); });
  if (!hits.ok()) co_return Response::FromStatus(hits.status());
  Value list = Value::MakeArray();
  for (const knowledge::Hit& h : *hits) list.push_back(knowledge::HitToValue(h));
  Value o = Value::MakeObject();
  o.set("query", q.text);
  o.set("chunks", list);
  co_return Response::Json(200, o);
}

asio::awaitable<Response> SyncBase(Server::Impl& s, Request& req) {
  Response refusal;
  const std::optional<knowledge::BaseConfig> base = FindBase(s, req, refusal);
  if (!base) co_return refusal;
  const std::string name = base->name;
  Result<knowledge::SyncReport> report = co_await s.Blocking([&] {
    Result<knowledge::SyncReport> r = s.runtime.knowledge()->Sync(name);
    if (r.ok()) s.Audit(req, "knowledge.sync", "knowledge:" + name);
    return r;
  });
  if (!report.ok()) co_return Response::FromStatus(report.status());
  Value o = Value::MakeObject();
  o.set("added", report->added);
  o.set("updated", report->updated);
  o.set("unchanged", report->unchanged);
  o.set("removed", report->removed);
  o.set("chunks", static_cast<double>(report->chunks));
  o.set("problems", StringArray(report->problems));
  co_return Response::Json(200, o);
}

// PUT /api/v1/knowledge/{base} {language, tags, chunk, embedding, max_file_mb}
asio::awaitable<Response> CreateBase(Server::Impl& s, Request& req) {
  Result<Value> body = req.body.empty() ? Result<Value>(Value::MakeObject()) : JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  const std::string name = req.params["base"];
  Result<knowledge::BaseConfig> config = knowledge::ReadBaseConfig(name, *body, "", false);
  if (!config.ok()) co_return Response::FromStatus(config.status());
  Status made = co_await s.Blocking([&] {
    Status st = s.runtime.knowledge()->CreateBase(*config);
    if (st.ok()) s.Audit(req, "knowledge.create", "knowledge:" + name);
    return st;
  });
  if (!made.ok()) co_return Response::FromStatus(made);
  Value o = knowledge::BaseConfigToValue(*config);
  o.set("name", name);
  co_return Response::Json(201, o);
}

asio::awaitable<Response> DeleteBase(Server::Impl& s, Request& req) {
  const std::string name = req.params["base"];
  Status done = co_await s.Blocking([&] {
    Status st = s.runtime.knowledge()->DeleteBase(name);
    if (st.ok()) s.Audit(req, "knowledge.drop", "knowledge:" + name);
    return st;
  });
  if (!done.ok()) co_return Response::FromStatus(done);
  Value o = Value::MakeObject();
  o.set("name", name);
  o.set("deleted", true);
  co_return Response::Json(200, o);
}

}  // namespace

void AddKnowledgeRoutes(std::vector<Route>& r) {
  r.push_back({verb::put, "/api/v1/knowledge/{base}", Need::kDeploy, &CreateBase,
               "Declare a knowledge base ({language, tags, chunk, embedding}; its documents come through the API)"});
  r.push_back({verb::delete_, "/api/v1/knowledge/{base}", Need::kDeploy, &DeleteBase,
               "Remove a knowledge base declared through the API, with its documents"});
  r.push_back({verb::get, "/api/v1/knowledge", Need::kRead, &ListBases, "The knowledge bases"});
  r.push_back(
      {verb::get, "/api/v1/knowledge/{base}/documents", Need::kRead, &ListDocuments, "A knowledge base's documents"});
  r.push_back({verb::put, "/api/v1/knowledge/{base}/documents", Need::kDeploy, &PutDocument,
               "Add or replace a document (?id=; the body is the file: Markdown, text, HTML or PDF)"});
  r.push_back({verb::delete_, "/api/v1/knowledge/{base}/documents", Need::kDeploy, &DeleteDocument,
               "Remove a document (?id=)"});
  r.push_back({verb::get, "/api/v1/knowledge/{base}/search", Need::kRead, &Search,
               "The passages that best answer ?q= (k, mode, language, tags)"});
  r.push_back({verb::post, "/api/v1/knowledge/{base}/sync", Need::kDeploy, &SyncBase,
               "Index the base's folder again (what changed)"});
}

}  // namespace weft::server
