#include "regex_translate.h"

#include <re2/re2.h>

#include "error.h"

namespace weft::expr {
namespace {

[[noreturn]] void Unsupported(int position, const std::string& what) {
  JsonataError e("S0303", position);
  e.detail = what;
  throw e;
}

std::string Translate(std::string_view p, int position) {
  std::string out;
  out.reserve(p.size() + 8);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char n = p[i + 1];
      if (n >= '1' && n <= '9' && !in_class) Unsupported(position, "backreferences are not supported");
      if (n == 'k' && i + 2 < p.size() && p[i + 2] == '<')
        Unsupported(position, "named backreferences are not supported");
      if (n == 'u') {
        // \uXXXX or \u{X...}
        if (i + 2 < p.size() && p[i + 2] == '{') {
          size_t end = p.find('}', i + 3);
          if (end == std::string_view::npos) Unsupported(position, "unterminated \\u{...} escape");
          out += "\\x{";
          out.append(p.substr(i + 3, end - i - 3));
          out += '}';
          i = end;
          continue;
        }
        if (i + 6 <= p.size()) {
          out += "\\x{";
          out.append(p.substr(i + 2, 4));
          out += '}';
          i += 5;
          continue;
        }
      }
      if (n == '/') {
        out += '/';
        ++i;
        continue;
      }
      if (n == 'd' || n == 'D' || n == 'w' || n == 'W' || n == 's' || n == 'S' || n == 'b' || n == 'B') {
        out += c;
        out += n;
        ++i;
        continue;
      }
      out += c;
      out += n;
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      if (p.substr(i, 3) == "[^]") {
        out += "(?s:.)";
        i += 2;
        continue;
      }
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') {
        out += '^';
        ++i;
      }
      if (i + 1 < p.size() && p[i + 1] == ']') {  // literal ] first in class
        out += "\\]";
        ++i;
      }
      continue;
    }
    if (c == '(' && i + 2 < p.size() && p[i + 1] == '?') {
      char k = p[i + 2];
      if (k == '=' || k == '!') Unsupported(position, "lookahead assertions are not supported");
      if (k == '<' && i + 3 < p.size() && (p[i + 3] == '=' || p[i + 3] == '!'))
        Unsupported(position, "lookbehind assertions are not supported");
      if (k == '<') {
        out += "(?P<";
        i += 2;
        continue;
      }
    }
    out += c;
  }
  return out;
}

}  // namespace

std::shared_ptr<const re2::RE2> CompileJsRegex(std::string_view pattern, std::string_view flags, int position) {
  std::string translated = Translate(pattern, position);
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_encoding(RE2::Options::EncodingUTF8);
  opts.set_case_sensitive(flags.find('i') == std::string_view::npos);
  opts.set_max_mem(8 << 20);
  if (flags.find('m') != std::string_view::npos) translated = "(?m)" + translated;
  auto re = std::make_shared<re2::RE2>(translated, opts);
  if (!re->ok()) {
    JsonataError e("S0303", position);
    e.detail = re->error();
    throw e;
  }
  // Each match keeps a slot per group in every state the matcher tracks:
  // memory grows with the square of the group count (10,000 groups took
  // 1.6 GB for one match), which RE2's max_mem does not cover.
  constexpr int kMaxGroups = 200;
  if (re->NumberOfCapturingGroups() > kMaxGroups) {
    JsonataError e("S0303", position);
    e.detail = "more than " + std::to_string(kMaxGroups) + " capturing groups";
    throw e;
  }
  return re;
}

}  // namespace weft::expr
