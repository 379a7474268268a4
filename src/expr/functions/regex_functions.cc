// Regular expressions as values: a regex literal evaluates to a matcher
// function; calling it returns {match, start, end, groups, next}. $match,
// $contains, $split and $replace accept any function that follows this
// protocol, so users can supply their own matchers.
#include <re2/re2.h>
#include <cmath>

#include "library.h"
#include "weft/core/numeric_cast.h"
#include "weft/core/utf8.h"

namespace weft::expr {
namespace {

// Runs the regex on `text` (a string value, shared by every match object of
// the scan rather than copied into each) from byte offset `from`, which is
// code point `from_cp`; builds the match object.
Value RegexExec(const Value& regex_value, const Value& text_value, size_t from, size_t from_cp) {
  const auto* rf = static_cast<const RegexFunction*>(regex_value.as_function());
  const re2::RE2& re = *rf->re;
  const std::string& text = text_value.as_string();
  int ngroups = re.NumberOfCapturingGroups();
  std::vector<re2::StringPiece> sub(static_cast<size_t>(ngroups) + 1);
  if (from > text.size()) return Value();
  if (!re.Match(text, from, text.size(), re2::RE2::UNANCHORED, sub.data(), ngroups + 1)) return Value();
  size_t bstart = static_cast<size_t>(sub[0].data() - text.data());
  size_t bend = bstart + sub[0].size();
  // Counted from where this match's scan began: linear over a whole scan.
  size_t start = from_cp + Utf8Length(std::string_view(text).substr(from, bstart - from));
  size_t end = start + Utf8Length(sub[0]);
  Value result = Value::MakeObject();
  result.set("match", Value(std::string(sub[0].data(), sub[0].size())));
  result.set("start", Value(start));
  result.set("end", Value(end));
  Value groups = Value::MakeArray();
  for (int g = 1; g <= ngroups; ++g) {
    if (sub[static_cast<size_t>(g)].data() == nullptr) {
      groups.push_back(Value());
    } else {
      groups.push_back(Value(std::string(sub[static_cast<size_t>(g)].data(), sub[static_cast<size_t>(g)].size())));
    }
  }
  result.set("groups", std::move(groups));
  auto* next = new MatchNextFunction();
  next->regex = regex_value;
  next->text = text_value;
  next->byte_offset = bend;
  next->cp_offset = end;
  result.set("next", Value::FromFunction(next));
  return result;
}

bool ReadMatch(const Value& obj, MatchResult& out) {
  if (obj.is_undefined()) return false;
  const Value* start = obj.find("start");
  const Value* end = obj.find("end");
  const Value* groups = obj.find("groups");
  const Value* next = obj.find("next");
  bool ok = obj.is_object() && ((start && start->is_number()) || (end && end->is_number()) ||
                                (groups && groups->is_array()) || (next && next->is_function()));
  if (!ok) throw JsonataError("T1010");
  const Value* match = obj.find("match");
  out.match = match && match->is_string() ? match->as_string() : std::string();
  out.start = start && start->is_number() ? start->as_number() : 0;
  out.end = end && end->is_number() ? end->as_number() : out.start + static_cast<double>(Utf8Length(out.match));
  out.groups = groups && groups->is_array() ? *groups : Value::MakeArray();
  out.next = next ? *next : Value();
  return true;
}

Value Match(std::vector<Value>& a, const CallContext& ctx) {
  if (a[0].is_undefined()) return Value();
  const Value& limit_v = Arg(a, 2);
  if (limit_v.is_defined() && limit_v.as_number() < 0) Fail("D3040", limit_v);
  size_t limit = limit_v.is_defined() ? SaturatingSize(std::floor(limit_v.as_number())) : SIZE_MAX;
  Value result = MakeSequence();
  if (limit == 0) return result;
  MatchResult m;
  if (!FirstMatch(a[1], a[0], ctx, m)) return result;
  size_t count = 0;
  bool more = true;
  while (more && count < limit) {
    Value o = Value::MakeObject();
    o.set("match", Value(m.match));
    o.set("index", Value(m.start));
    o.set("groups", m.groups);
    result.push_back(std::move(o));
    ++count;
    more = NextMatch(m, ctx);
  }
  return result;
}

}  // namespace

Value CallRegexFunction(const CallableBase* c, std::vector<Value>& args, const CallContext&) {
  if (c->kind == CallableBase::Kind::kRegex) {
    const Value& s = Arg(args, 0);
    if (!s.is_string()) return Value();
    size_t from = 0, from_cp = 0;
    if (Arg(args, 1).is_number()) {
      from_cp = SaturatingSize(args[1].as_number());
      from = Utf8Offset(s.as_string(), from_cp);
      from_cp = std::min(from_cp, Utf8Length(s.as_string()));
    }
    // Re-wrap the regex function itself as a Value (shares the node).
    auto* self = new RegexFunction();
    const auto* rf = static_cast<const RegexFunction*>(c);
    self->re = rf->re;
    self->source = rf->source;
    self->position = rf->position;
    return RegexExec(Value::FromFunction(self), s, from, from_cp);
  }
  const auto* n = static_cast<const MatchNextFunction*>(c);
  if (n->byte_offset >= n->text.as_string().size()) return Value();
  Value next = RegexExec(n->regex, n->text, n->byte_offset, n->cp_offset);
  if (next.is_object() && next.get("match").as_string().empty()) {
    const auto* rf = static_cast<const RegexFunction*>(n->regex.as_function());
    JsonataError e("D1004", rf->position);
    e.value = Value(rf->source);
    throw e;
  }
  return next;
}

bool FirstMatch(const Value& matcher, const Value& text, const CallContext& ctx, MatchResult& out) {
  Value r = ctx.ev.Apply(matcher, {text}, kCallbackContext, ctx.env);
  return ReadMatch(r, out);
}

bool NextMatch(MatchResult& m, const CallContext& ctx) {
  if (!m.next.is_function()) return false;
  Value fn = m.next;
  Value r = ctx.ev.Apply(fn, {}, kCallbackContext, ctx.env);
  return ReadMatch(r, m);
}

const std::vector<BuiltinDef>& RegexBuiltins() {
  static const std::vector<BuiltinDef> defs = {
      {"match", "<s-f<s:o>n?:a<o>>", Match, 3},
  };
  return defs;
}

}  // namespace weft::expr
