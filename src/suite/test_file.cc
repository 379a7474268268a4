// Reading test files and finding them.
#include <algorithm>
#include <filesystem>
#include <set>

#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/expr/expression.h"
#include "weft/suite/suite.h"

namespace weft::suite {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDefaultNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

Status Unknown(const Value& section, const std::string& where, std::initializer_list<std::string_view> known) {
  for (const auto& m : section.members()) {
    if (std::find(known.begin(), known.end(), m.key) != known.end()) continue;
    std::string message = where;
    message.append(": unknown key '").append(m.key).append("' (");
    for (std::string_view k : known) message.append(k == *known.begin() ? "" : ", ").append(k);
    return InvalidArgumentError(message.append(")"));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> Names(const Value& v, const std::string& where) {
  std::vector<std::string> out;
  if (!v.is_array()) return InvalidArgumentError(where + ": expected a list of task names");
  for (const Value& item : v.as_array()) {
    if (!item.is_string()) return InvalidArgumentError(where + ": expected a list of task names");
    out.push_back(item.as_string());
  }
  return out;
}

// The error a case makes a step fail with; InvalidArgument (the test
// file's mistake) goes to `problem`.
Status FailureOf(const Value& v, const std::string& where, Status& problem) {
  if (v.is_string()) return UnavailableError(v.as_string());
  if (v.is_object() && v.get("message").is_string()) {
    StatusCode code = StatusCode::kUnavailable;
    if (const Value c = v.get("code"); c.is_string()) {
      std::optional<StatusCode> parsed = ParseStatusCode(c.as_string());
      if (!parsed || *parsed == StatusCode::kOk) {
        problem = InvalidArgumentError(where + ".code: unknown status code '" + c.as_string() + "'");
        return problem;
      }
      code = *parsed;
    }
    return Status(code, v.get("message").as_string());
  }
  problem = InvalidArgumentError(where + ": expected a message, or {message, code}");
  return problem;
}

Result<Case> ReadCase(const Value& c, const std::string& where) {
  if (!c.is_object()) return InvalidArgumentError(where + ": expected a mapping");
  WEFT_RETURN_IF_ERROR(
      Unknown(c, where,
              {"name", "input", "mocks", "mock_sequences", "failures", "http", "replies", "secrets", "now", "expect"}));
  Case out;
  out.name = c.get("name").is_string() ? c.get("name").as_string() : "";
  if (out.name.empty()) return InvalidArgumentError(where + ": a case needs a name");
  const std::string at = where + " ('" + out.name + "')";
  out.input = c.get("input").is_defined() ? c.get("input") : Value::MakeObject();
  if (const Value m = c.get("mocks"); m.is_defined()) {
    if (!m.is_object()) return InvalidArgumentError(at + ".mocks: expected task: result");
    for (const auto& e : m.members()) out.mocks[e.key] = {e.value};
  }
  if (const Value m = c.get("mock_sequences"); m.is_defined()) {
    if (!m.is_object()) return InvalidArgumentError(at + ".mock_sequences: expected task: [results]");
    for (const auto& e : m.members()) {
      if (!e.value.is_array() || e.value.size() == 0) {
        return InvalidArgumentError(at + ".mock_sequences." + e.key + ": expected a list of results");
      }
      if (out.mocks.count(e.key))
        return InvalidArgumentError(at + ": task '" + e.key + "' is in mocks and mock_sequences");
      out.mocks[e.key] = std::vector<Value>(e.value.as_array().begin(), e.value.as_array().end());
    }
  }
  if (const Value f = c.get("failures"); f.is_defined()) {
    if (!f.is_object()) return InvalidArgumentError(at + ".failures: expected task: message");
    for (const auto& e : f.members()) {
      Status problem;
      out.failures[e.key] = FailureOf(e.value, at + ".failures." + e.key, problem);
      WEFT_RETURN_IF_ERROR(problem);
    }
  }
  if (const Value h = c.get("http"); h.is_defined()) {
    if (!h.is_array()) return InvalidArgumentError(at + ".http: expected a list of {method, url, status, body}");
    int i = 0;
    for (const Value& f : h.as_array()) {
      const std::string fw = at + ".http[" + std::to_string(i++) + "]";
      if (!f.is_object() || !f.get("url").is_string())
        return InvalidArgumentError(fw + ": expected {method, url, ...}");
      WEFT_RETURN_IF_ERROR(Unknown(f, fw, {"method", "url", "status", "headers", "body"}));
      HttpFixture fx;
      fx.url = f.get("url").as_string();
      if (const Value m = f.get("method"); m.is_string()) fx.method = m.as_string();
      if (const Value s = f.get("status"); s.is_number()) fx.status = static_cast<int>(s.as_number());
      if (fx.status < 100 || fx.status > 599) return InvalidArgumentError(fw + ".status: expected 100..599");
      if (const Value hs = f.get("headers"); hs.is_object()) {
        for (const auto& hv : hs.members()) {
          fx.headers.emplace_back(hv.key, hv.value.is_string() ? hv.value.as_string() : ToJson(hv.value));
        }
      }
      if (const Value b = f.get("body"); b.is_string()) {
        fx.body = b.as_string();
      } else if (b.is_defined()) {
        fx.body = ToJson(b);
        fx.headers.emplace_back("Content-Type", "application/json");
      }
      out.http.push_back(std::move(fx));
    }
  }
  if (const Value r = c.get("replies"); r.is_defined()) {
    if (!r.is_array()) return InvalidArgumentError(at + ".replies: expected a list of {step, with}");
    for (const Value& item : r.as_array()) {
      if (!item.is_object()) return InvalidArgumentError(at + ".replies: expected a list of {step, with}");
      WEFT_RETURN_IF_ERROR(Unknown(item, at + ".replies", {"step", "with"}));
      out.replies.push_back({item.get("step").is_string() ? item.get("step").as_string() : "",
                             item.get("with").is_defined() ? item.get("with") : Value::MakeObject()});
    }
  }
  if (const Value s = c.get("secrets"); s.is_object()) {
    for (const auto& e : s.members()) out.secrets[e.key] = e.value.is_string() ? e.value.as_string() : ToJson(e.value);
  }
  out.now_ms = kDefaultNow;
  if (const Value n = c.get("now"); n.is_defined()) {
    if (n.is_number()) {
      out.now_ms = static_cast<int64_t>(n.as_number());
    } else {
      Result<expr::Expression> to_millis = expr::Expression::Compile("$toMillis($)");
      Result<Value> ms = to_millis.ok() && n.is_string() ? to_millis->Evaluate(n) : Result<Value>(Value());
      if (!ms.ok() || !ms->is_number()) {
        return InvalidArgumentError(at + ".now: expected an ISO 8601 time (2026-03-01T09:00:00Z) or milliseconds");
      }
      out.now_ms = static_cast<int64_t>(ms->as_number());
    }
  }
  const Value e = c.get("expect");
  if (e.is_defined()) {
    const std::string ew = at + ".expect";
    if (!e.is_object()) return InvalidArgumentError(ew + ": expected a mapping");
    WEFT_RETURN_IF_ERROR(
        Unknown(e, ew, {"status", "outputs", "assert", "path", "ran", "not_ran", "messages", "error", "max_cost"}));
    Expectation& x = out.expect;
    if (const Value s = e.get("status"); s.is_defined()) {
      static const std::set<std::string, std::less<>> kStatuses = {"completed", "failed", "suspended", "cancelled"};
      if (!s.is_string() || !kStatuses.count(s.as_string())) {
        return InvalidArgumentError(ew + ".status: expected completed, failed, suspended or cancelled");
      }
      x.status = s.as_string();
    }
    x.outputs = e.get("outputs");
    if (x.outputs.is_defined() && !x.outputs.is_object())
      return InvalidArgumentError(ew + ".outputs: expected a mapping");
    if (const Value a = e.get("assert"); a.is_defined()) {
      const Value list = a.is_string() ? Value::MakeArray({a}) : a;
      if (!list.is_array()) return InvalidArgumentError(ew + ".assert: expected expressions");
      for (const Value& item : list.as_array()) {
        if (!item.is_string()) return InvalidArgumentError(ew + ".assert: expected expressions");
        std::string text = item.as_string();
        if (!text.empty() && text[0] == '=') text.erase(0, 1);
        expr::ExprError error;
        if (!expr::Expression::Compile(text, &error).ok()) {
          std::string message = ew;
          message.append(".assert: '").append(text).append("': ").append(error.message);
          return InvalidArgumentError(message);
        }
        x.asserts.push_back(text);
      }
    }
    if (const Value p = e.get("path"); p.is_defined()) {
      WEFT_ASSIGN_OR_RETURN(x.path, Names(p, ew + ".path"));
    }
    if (const Value r = e.get("ran"); r.is_defined()) {
      WEFT_ASSIGN_OR_RETURN(x.ran, Names(r, ew + ".ran"));
    }
    if (const Value r = e.get("not_ran"); r.is_defined()) {
      WEFT_ASSIGN_OR_RETURN(x.not_ran, Names(r, ew + ".not_ran"));
    }
    if (const Value m = e.get("messages"); m.is_defined()) {
      WEFT_ASSIGN_OR_RETURN(x.messages, Names(m, ew + ".messages"));
    }
    if (const Value er = e.get("error"); er.is_string()) x.error = er.as_string();
    if (const Value c2 = e.get("max_cost"); c2.is_defined()) {
      if (!c2.is_number() || c2.as_number() < 0) return InvalidArgumentError(ew + ".max_cost: expected a number");
      x.max_cost = c2.as_number();
    }
  }
  return out;
}

bool IsTestFile(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.ends_with(".test.yaml") || name.ends_with(".test.yml");
}

}  // namespace

Result<TestFile> ReadTestFile(const std::string& path) {
  WEFT_ASSIGN_OR_RETURN(Value doc, dsl::LoadYamlFile(path));
  if (!doc.is_object()) return InvalidArgumentError(path + ": expected a mapping with `cases:`");
  WEFT_RETURN_IF_ERROR(Unknown(doc, path, {"workflow", "cases"}));
  TestFile out;
  out.path = path;
  const fs::path here = fs::path(path).parent_path();
  if (const Value w = doc.get("workflow"); w.is_string()) {
    out.workflow_path = (here / w.as_string()).lexically_normal().string();
  } else {
    std::string name = fs::path(path).filename().string();
    for (const char* suffix : {".test.yaml", ".test.yml"}) {
      if (name.ends_with(suffix)) name = name.substr(0, name.size() - std::string_view(suffix).size());
    }
    out.workflow_path = (here / (name + ".yaml")).lexically_normal().string();
  }
  const Value cases = doc.get("cases");
  if (!cases.is_array() || cases.size() == 0) return InvalidArgumentError(path + ": expected `cases:`, a list");
  std::set<std::string> names;
  int i = 0;
  for (const Value& c : cases.as_array()) {
    WEFT_ASSIGN_OR_RETURN(Case parsed, ReadCase(c, path + ": cases[" + std::to_string(i++) + "]"));
    if (!names.insert(parsed.name).second) {
      return InvalidArgumentError(path + ": two cases are named '" + parsed.name + "'");
    }
    out.cases.push_back(std::move(parsed));
  }
  return out;
}

Result<std::vector<std::string>> FindTestFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  auto add = [&](const fs::path& p) {
    const std::string s = p.lexically_normal().string();
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (const std::string& given : paths) {
    const fs::path p = given;
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
           !ec && it != end; it.increment(ec)) {
        const fs::path& f = it->path();
        if (f.filename().string().rfind('.', 0) == 0 || f.filename() == "node_modules") {
          if (it->is_directory(ec)) it.disable_recursion_pending();
          continue;
        }
        if (!it->is_regular_file(ec)) continue;
        const bool in_tests =
            f.parent_path().filename() == "tests" && (f.extension() == ".yaml" || f.extension() == ".yml");
        if (IsTestFile(f) || in_tests) found.push_back(f);
      }
      std::sort(found.begin(), found.end());
      for (const fs::path& f : found) add(f);
    } else if (fs::is_regular_file(p, ec)) {
      if (IsTestFile(p)) {
        add(p);
        continue;
      }
      // A workflow: its test file beside it.
      const fs::path beside = p.parent_path() / (p.stem().string() + ".test.yaml");
      if (!fs::exists(beside, ec)) {
        return NotFoundError(given + ": no test file beside it (" + beside.string() + ")");
      }
      add(beside);
    } else {
      return NotFoundError(given + ": no such file or folder");
    }
  }
  return out;
}

}  // namespace weft::suite
