// Form triggers: GET /forms/<workflow> serves an accessible HTML form built
// from the workflow's input schema; POST starts the run and shows its
// result (or its status when it takes longer or waits for a person).
#include <cmath>

#include "body.h"
#include "server_impl.h"
#include "weft/core/escape.h"
#include "weft/core/json.h"
#include "weft/files/files.h"

namespace weft::server {

std::string Html(std::string_view s) { return EscapeMarkup(s); }

std::string Page(const std::string& title, const std::string& body) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" +
         Html(title) +
         "</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}"
         "label{display:block;font-weight:600;margin-top:1rem}input,select,textarea{width:100%;padding:.4rem;"
         "font:inherit}input[type=checkbox]{width:auto}.hint{color:#555;font-size:.9rem}.error{color:#a00}"
         "button{margin-top:1.5rem;padding:.5rem 1.5rem;font:inherit}dt{font-weight:600}</style></head><body>" +
         body + "</body></html>\n";
}

namespace {

// The workflow's form trigger and its index (nullptr when it has none).
const dsl::FormTrigger* FormOf(const dsl::Workflow& wf, size_t* index) {
  for (size_t i = 0; i < wf.triggers.size(); ++i) {
    if (wf.triggers[i].kind == dsl::Trigger::Kind::kForm) {
      *index = i;
      return &wf.triggers[i].form;
    }
  }
  return nullptr;
}

// A file field: an object (what an upload becomes) with a media type.
bool IsFile(const Value& field) { return field.get("contentMediaType").is_string(); }

// The form's fields from the input schema.
std::string Fields(const dsl::Workflow& wf, const Value& previous) {
  const Value schema = wf.input_schema_document;
  const Value properties = schema.get("properties");
  std::set<std::string> required;
  if (const Value list = schema.get("required"); list.is_array()) {
    for (const Value& r : list.as_array()) {
      if (r.is_string()) required.insert(r.as_string());
    }
  }
  std::string out;
  if (!properties.is_object()) return out;
  for (const auto& m : properties.members()) {
    const std::string id = "f-" + m.key;
    const Value& field = m.value;
    const std::string label = field.get("title").is_string() ? field.get("title").as_string() : m.key;
    const bool req = required.count(m.key) != 0;
    const std::string describe = field.get("description").is_string() ? " aria-describedby=\"" + id + "-hint\"" : "";
    const std::string req_attr = req ? " required aria-required=\"true\"" : "";
    const Value before = previous.get(m.key);
    const std::string value = before.is_string() ? before.as_string() : before.is_number() ? ToJson(before) : "";
    // What every control carries: its id, its name, its hint, required.
    std::string attrs = " id=\"" + Html(id) + "\" name=\"" + Html(m.key) + "\"";
    attrs.append(describe);
    out.append("<label for=\"").append(Html(id)).append("\">").append(Html(label));
    if (req) out.append(" <span aria-hidden=\"true\">*</span>");
    out.append("</label>");
    if (field.get("description").is_string()) {
      out.append("<div class=\"hint\" id=\"").append(Html(id)).append("-hint\">");
      out.append(Html(field.get("description").as_string())).append("</div>");
    }
    const Value type = field.get("type");
    if (field.get("enum").is_array()) {
      out.append("<select").append(attrs).append(req_attr).append(">");
      if (!req) out.append("<option value=\"\"></option>");
      for (const Value& option : field.get("enum").as_array()) {
        const std::string text = option.is_string() ? option.as_string() : ToJson(option);
        out.append(text == value ? "<option selected>" : "<option>").append(Html(text)).append("</option>");
      }
      out.append("</select>");
    } else if (type == Value("boolean")) {
      out.append("<input type=\"checkbox\"").append(attrs).append(" value=\"true\"");
      out.append(before == Value(true) ? " checked>" : ">");
    } else if (IsFile(field)) {
      out.append("<input type=\"file\"").append(attrs).append(req_attr).append(">");
    } else if (type == Value("number") || type == Value("integer")) {
      out.append("<input type=\"number\"").append(attrs).append(req_attr);
      out.append(type == Value("integer") ? " step=\"1\"" : " step=\"any\"");
      out.append(" value=\"").append(Html(value)).append("\">");
    } else if (field.get("maxLength").is_number() && field.get("maxLength").as_number() <= 200) {
      out.append("<input type=\"text\"").append(attrs).append(req_attr);
      out.append(" value=\"").append(Html(value)).append("\">");
    } else {
      out.append("<textarea").append(attrs).append(" rows=\"3\"").append(req_attr).append(">");
      out.append(Html(value)).append("</textarea>");
    }
  }
  return out;
}

std::string FormBody(const dsl::Workflow& wf, const dsl::FormTrigger& form, const Value& previous,
                     const std::string& error) {
  std::string body = "<main><h1>" + Html(form.title) + "</h1>";
  if (!form.description.empty()) body += "<p>" + Html(form.description) + "</p>";
  if (!error.empty()) body += "<p class=\"error\" role=\"alert\">" + Html(error) + "</p>";
  body += "<form method=\"post\" enctype=\"multipart/form-data\">" + Fields(wf, previous) + "<button type=\"submit\">" +
          Html(form.submit_label) + "</button></form></main>";
  return body;
}

// Form fields are text: numbers, integers and booleans are read as the
// schema says; empty optional fields are left out.
Value Coerce(const dsl::Workflow& wf, const Value& fields) {
  const Value properties = wf.input_schema_document.get("properties");
  Value out = Value::MakeObject();
  for (const auto& m : fields.members()) {
    const Value field = properties.get(m.key);
    const Value type = field.get("type");
    if (m.value.is_string()) {
      const std::string& text = m.value.as_string();
      if (text.empty() && type != Value("string")) continue;
      if (text.empty() && field.get("enum").is_array()) continue;
      if (type == Value("number") || type == Value("integer")) {
        char* end = nullptr;
        const double d = std::strtod(text.c_str(), &end);
        if (end != text.c_str() && *end == '\0' && std::isfinite(d)) {
          out.set(m.key, d);
          continue;
        }
      } else if (type == Value("boolean")) {
        out.set(m.key, text == "true" || text == "on");
        continue;
      }
    }
    out.set(m.key, m.value);
  }
  // An unchecked box sends nothing: it is false.
  if (properties.is_object()) {
    for (const auto& m : properties.members()) {
      if (m.value.get("type") == Value("boolean") && out.find(m.key) == nullptr) out.set(m.key, false);
    }
  }
  return out;
}

}  // namespace

asio::awaitable<Response> HandleForm(Server::Impl& s, Request& req) {
  const std::string name = req.path.substr(7);  // after "/forms/"
  std::shared_ptr<const dsl::Workflow> wf = s.Deployed(name);
  size_t index = 0;
  const dsl::FormTrigger* form = wf ? FormOf(*wf, &index) : nullptr;
  if (form != nullptr && !s.switches->Enabled(wf->name, index)) {
    co_return Response::Text(404, Page("Closed", "<main><h1>This form is closed</h1></main>"),
                             "text/html; charset=utf-8");
  }
  if (form == nullptr) {
    co_return Response::Text(404, Page("Not found", "<main><h1>No form here</h1></main>"), "text/html; charset=utf-8");
  }
  if (req.method == beast::http::verb::get) {
    Response r = Response::Text(200, Page(form->title, FormBody(*wf, *form, Value::MakeObject(), "")),
                                "text/html; charset=utf-8");
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    co_return r;
  }
  if (req.method != beast::http::verb::post) {
    co_return Response::Error(405, "INVALID_ARGUMENT", req.method_text + " is not accepted by /forms/" + name);
  }
  Result<ParsedBody> parsed = ParseRequestBody(req.header("Content-Type"), req.body);
  auto again = [&](int status, const std::string& error, const Value& previous) {
    Response r =
        Response::Text(status, Page(form->title, FormBody(*wf, *form, previous, error)), "text/html; charset=utf-8");
    return r;
  };
  if (!parsed.ok()) co_return again(400, parsed.status().message(), Value::MakeObject());
  if (!parsed->files.empty()) {
    if (s.options.data_dir.empty()) co_return again(415, "this server keeps no uploads", parsed->value);
    for (const UploadedFile& f : parsed->files) {
      if (Status allowed = CheckUploadType(s, f.filename, f.type); !allowed.ok()) {
        co_return again(415, allowed.message(), parsed->value);
      }
    }
    for (const UploadedFile& f : parsed->files) {
      Status stored = co_await s.Blocking([&] { return StoreUpload(s.options.data_dir, f); });
      if (!stored.ok()) co_return again(503, stored.message(), parsed->value);
    }
  }
  const Value input = Coerce(*wf, parsed->value);
  engine::StartOptions start;
  start.trigger = "form";
  Result<store::RunRecord> run =
      co_await s.engine.AsyncStart(wf->name, wf->version, input, start, std::chrono::milliseconds(10'000));
  if (!run.ok())
    co_return again(run.status().code() == StatusCode::kInvalidArgument ? 400 : 500, run.status().message(),
                    parsed->value);
  s.metrics->Add("weft_runs_started_total", {{"workflow", wf->name}, {"trigger", "form"}});
  std::string body = "<main><h1>" + Html(form->title) + "</h1><p role=\"status\">";
  switch (run->status) {
    case store::RunStatus::kCompleted: body += "Done."; break;
    case store::RunStatus::kSuspended: body += "Received: it waits for a person now."; break;
    case store::RunStatus::kRunning: body += "Received: it is still being processed."; break;
    default: body += "It did not go through: " + Html(run->error); break;
  }
  body += "</p>";
  if (run->status == store::RunStatus::kCompleted && run->outputs.is_object()) {
    body += "<dl>";
    for (const auto& m : run->outputs.members()) {
      body += "<dt>" + Html(m.key) + "</dt><dd>" + Html(m.value.is_string() ? m.value.as_string() : ToJson(m.value)) +
              "</dd>";
    }
    body += "</dl>";
  }
  body += "<p>Reference: <code>" + Html(run->id) + "</code></p></main>";
  Response r = Response::Text(run->status == store::RunStatus::kFailed ? 500 : 200, Page(form->title, body),
                              "text/html; charset=utf-8");
  r.headers.emplace_back("X-Weft-Run", run->id);
  co_return r;
}

}  // namespace weft::server
