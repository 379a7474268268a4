// The OpenAPI 3.1 document of the server's routes (/api/openapi.json).
// Schemas are written inline so that a client (and the tests) can check a
// response against its operation without resolving references.
#include "server_impl.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"

namespace weft::server {
namespace {

Value Parse(const char* json) { return ParseJson(json).value(); }

const char* const kError = R"({"type":"object","required":["error"],"properties":{"error":{"type":"object",
  "required":["code","message"],"properties":{"code":{"type":"string"},"message":{"type":"string"}}}}})";

const char* const kRun = R"({"type":"object","required":["run_id","workflow","version","status","input","created_ms"],
  "properties":{"run_id":{"type":"string"},"workflow":{"type":"string"},"version":{"type":"number"},
  "status":{"enum":["running","suspended","completed","failed","cancelled"]},"input":{},"outputs":{},
  "error":{"type":"object"},"waiting":{"type":"object"},"trigger":{"type":"string"},
  "steps":{"type":"array","items":{"type":"object","required":["seq","path","task","action","attempt","status"]}},
  "results":{"type":"object"},"created_ms":{"type":"number"},"updated_ms":{"type":"number"}}})";

struct Shape {
  const char* method;
  const char* pattern;
  int status;
  const char* schema;  // JSON Schema of a success body; nullptr = text
};

// The success answer of each route.
const Shape kShapes[] = {
    {"get", "/healthz", 200, nullptr},
    {"get", "/readyz", 200, nullptr},
    {"get", "/metrics", 200, nullptr},
    {"get", "/api/openapi.json", 200, R"({"type":"object","required":["openapi","paths"]})"},
    {"get", "/api/v1/workflows", 200,
     R"({"type":"object","required":["workflows"],"properties":{"workflows":{"type":"array","items":{"type":"object",
       "required":["name","version","triggers"],"properties":{"name":{"type":"string"},"version":{"type":"number"},
       "triggers":{"type":"array"}}}}}})"},
    {"post", "/api/v1/workflows", 201,
     R"({"type":"object","required":["name","version","diagnostics"],"properties":{"name":{"type":"string"},
       "version":{"type":"number"},"diagnostics":{"type":"array"}}})"},
    {"get", "/api/v1/workflows/{name}", 200,
     R"({"type":"object","required":["name","version","versions","source"],"properties":{"name":{"type":"string"},
       "version":{"type":"number"},"versions":{"type":"array"},"source":{"type":"string"},"triggers":{"type":"array"},
       "graph":{"type":"object","required":["nodes","edges"]}}})"},
    {"post", "/api/v1/runs", 201, kRun},
    {"get", "/api/v1/runs", 200,
     R"({"type":"object","required":["runs"],"properties":{"runs":{"type":"array"},"next_cursor":{"type":"string"}}})"},
    {"get", "/api/v1/runs/{id}", 200, kRun},
    {"post", "/api/v1/runs/{id}/cancel", 200, kRun},
    {"post", "/api/v1/runs/{id}/retry", 202, kRun},
    {"post", "/api/v1/runs/{id}/resume", 202, kRun},
    {"get", "/api/v1/tasks", 200,
     R"({"type":"object","required":["tasks"],"properties":{"tasks":{"type":"array","items":{"type":"object",
       "required":["id","run_id","workflow","kind","task","path"]}}}})"},
    {"post", "/api/v1/tasks/{id}/complete", 202, kRun},
    {"get", "/api/v1/conversations/{id}/messages", 200,
     R"({"type":"object","required":["messages"],"properties":{"messages":{"type":"array"}}})"},
    {"get", "/api/v1/usage", 200,
     R"({"type":"object","required":["day","cost","input_tokens","output_tokens","calls"]})"},
    {"get", "/api/v1/usage/daily", 200,
     R"({"type":"object","required":["from","to","rows","budgets"],"properties":{"rows":{"type":"array","items":{
       "type":"object","required":["day","workflow","model","cost","input_tokens","output_tokens","calls"]}},
       "budgets":{"type":"array","items":{"type":"object","required":["workflow","per_workflow_day","spent_today"]}}}})"},
    {"get", "/", 200, nullptr},
    {"get", "/console.js", 200, nullptr},
    {"get", "/console.css", 200, nullptr},
    {"get", "/api/v1/keys", 200,
     R"({"type":"object","required":["keys"],"properties":{"keys":{"type":"array","items":{"type":"object",
       "required":["id","name","role","created_ms"]}}}})"},
    {"post", "/api/v1/keys", 201, R"({"type":"object","required":["key","id","name","role"]})"},
    {"post", "/api/v1/keys/{id}/revoke", 200, R"({"type":"object"})"},
    {"get", "/api/v1/events", 200, nullptr},
    {"get", "/api/v1/runs/{id}/events", 200, nullptr},
    {"post", "/api/v1/conversations/{id}/messages", 201,
     R"({"type":"object","required":["seq","role","kind","content"]})"},
    {"post", "/chat/{channel}/conversations", 201,
     R"({"type":"object","required":["conversation","channel","token"],"properties":{
       "conversation":{"type":"string"},"channel":{"type":"string"},"token":{"type":"string"}}})"},
    {"post", "/chat/{channel}/messages", 202,
     R"({"type":"object","required":["id","seq"],"properties":{"id":{"type":"string"},"seq":{"type":"number"}}})"},
    {"get", "/chat/{channel}/messages", 200,
     R"({"type":"object","required":["conversation","messages"],"properties":{"messages":{"type":"array"}}})"},
    {"get", "/chat/{channel}/events", 200, nullptr},
    {"post", "/chat/{channel}/uploads", 201,
     R"({"type":"object","required":["id","name","size","type"],"properties":{"id":{"type":"string"},
       "name":{"type":"string"},"size":{"type":"number"},"type":{"type":"string"}}})"},
    {"get", "/chat/{channel}/uploads/{id}", 200, nullptr},
    {"get", "/api/v1/conversations/{id}/uploads/{file}", 200, nullptr},
    {"get", "/chat/{channel}", 101, nullptr},
    {"get", "/widget.js", 200, nullptr},
    {"get", "/demo/{channel}", 200, nullptr},
    {"put", "/api/v1/knowledge/{base}", 201, R"({"type":"object","required":["name","chunk","max_file_mb"]})"},
    {"delete", "/api/v1/knowledge/{base}", 200, R"({"type":"object","required":["name","deleted"]})"},
    {"get", "/api/v1/knowledge", 200,
     R"({"type":"object","required":["bases"],"properties":{"bases":{"type":"array","items":{"type":"object",
       "required":["name","folder","search","declared_in"]}}}})"},
    {"get", "/api/v1/knowledge/{base}/documents", 200,
     R"({"type":"object","required":["documents"],"properties":{"documents":{"type":"array","items":{
       "type":"object","required":["id","title","source","language","tags","chunks","sha256"]}}}})"},
    {"put", "/api/v1/knowledge/{base}/documents", 200,
     R"({"type":"object","required":["id","title","source","language","tags","chunks","sha256"]})"},
    {"delete", "/api/v1/knowledge/{base}/documents", 200, R"({"type":"object","required":["id","deleted"]})"},
    {"get", "/api/v1/knowledge/{base}/search", 200,
     R"({"type":"object","required":["query","chunks"],"properties":{"chunks":{"type":"array","items":{
       "type":"object","required":["text","score","title","source","document","chunk"]}}}})"},
    {"post", "/api/v1/knowledge/{base}/sync", 200,
     R"({"type":"object","required":["added","updated","unchanged","removed","chunks","problems"]})"},
};

}  // namespace

Value OpenApiDocument(const std::vector<Route>& routes) {
  Value doc = Value::MakeObject();
  doc.set("openapi", "3.1.0");
  Value info = Value::MakeObject();
  info.set("title", "weft");
  info.set("version", "1");
  info.set("description",
           "weft's HTTP API: workflows, runs, the task inbox, live updates. Webhooks are served at "
           "/hooks/<path> as each workflow's trigger declares.");
  doc.set("info", info);
  Value paths = Value::MakeObject();
  for (const Route& r : routes) {
    std::string method(beast::http::to_string(r.method));
    method = AsciiLower(method);
    Value op = Value::MakeObject();
    op.set("summary", r.summary);
    op.set("operationId", method + r.pattern);
    op.set("x-weft-needs", std::string(NeedName(r.need)));
    if (r.need != Need::kPublic) {
      Value sec = Value::MakeArray();
      Value bearer = Value::MakeObject();
      bearer.set("apiKey", Value::MakeArray());
      sec.push_back(bearer);
      op.set("security", sec);
    }
    Value params = Value::MakeArray();
    for (const std::string& seg : r.segments) {
      if (seg.empty() || seg.front() != '{') continue;
      Value p = Value::MakeObject();
      p.set("name", seg.substr(1, seg.size() - 2));
      p.set("in", "path");
      p.set("required", true);
      Value schema = Value::MakeObject();
      schema.set("type", "string");
      p.set("schema", schema);
      params.push_back(p);
    }
    if (params.size() > 0) op.set("parameters", params);
    Value responses = Value::MakeObject();
    for (const Shape& shape : kShapes) {
      if (method != shape.method || r.pattern != shape.pattern) continue;
      Value ok = Value::MakeObject();
      ok.set("description", "success");
      Value content = Value::MakeObject();
      Value media = Value::MakeObject();
      if (shape.schema != nullptr) {
        media.set("schema", Parse(shape.schema));
        content.set("application/json", media);
      } else {
        Value text = Value::MakeObject();
        text.set("type", "string");
        media.set("schema", text);
        content.set(r.pattern.ends_with("events") ? "text/event-stream" : "text/plain", media);
      }
      ok.set("content", content);
      responses.set(std::to_string(shape.status), ok);
    }
    Value error = Value::MakeObject();
    error.set("description", "an error");
    Value content = Value::MakeObject();
    Value media = Value::MakeObject();
    media.set("schema", Parse(kError));
    content.set("application/json", media);
    error.set("content", content);
    responses.set("default", error);
    op.set("responses", responses);
    if (paths.find(r.pattern) == nullptr) paths.set(r.pattern, Value::MakeObject());
    paths.mutable_member(r.pattern).set(method, op);
  }
  doc.set("paths", paths);
  Value components = Value::MakeObject();
  Value schemes = Value::MakeObject();
  Value api_key = Value::MakeObject();
  api_key.set("type", "http");
  api_key.set("scheme", "bearer");
  api_key.set("description", "An API key (wk_<id>_<secret>) from `weft keys create` or POST /api/v1/keys");
  schemes.set("apiKey", api_key);
  components.set("securitySchemes", schemes);
  doc.set("components", components);
  return doc;
}

}  // namespace weft::server
