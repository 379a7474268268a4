#include "signature.h"

#include "error.h"

namespace weft::expr {

char SignatureSymbol(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString: return 's';
    case Value::Kind::kNumber: return 'n';
    case Value::Kind::kBool: return 'b';
    case Value::Kind::kNull: return 'l';
    case Value::Kind::kArray: return 'a';
    case Value::Kind::kObject: return 'o';
    case Value::Kind::kFunction: return 'f';
    case Value::Kind::kUndefined: return 'm';
  }
  return 'm';
}

namespace {

size_t FindClosing(std::string_view s, size_t start, char open, char close) {
  int depth = 1;
  for (size_t i = start + 1; i < s.size(); ++i) {
    if (s[i] == open) ++depth;
    if (s[i] == close && --depth == 0) return i;
  }
  return std::string_view::npos;
}

}  // namespace

Signature Signature::Parse(std::string_view text) {
  Signature sig;
  sig.definition_ = std::string(text);
  size_t pos = 1;  // skip '<'
  Param* prev = nullptr;
  while (pos < text.size()) {
    char c = text[pos];
    if (c == ':') break;  // return type follows; not enforced (as in JSONata)
    Param p;
    switch (c) {
      case 's':
      case 'n':
      case 'b':
      case 'l':
      case 'o':
        p.symbols = std::string(1, c) + "m";
        p.type = c;
        break;
      case 'a':
        p.symbols = "asnblfom";
        p.type = 'a';
        break;
      case 'f':
        p.symbols = "f";
        p.type = 'f';
        break;
      case 'j':
        p.symbols = "asnblom";
        p.type = 'j';
        break;
      case 'x':
        p.symbols = "asnblfom";
        p.type = 'x';
        break;
      case '-':
        if (prev) {
          prev->context = true;
          prev->context_symbols = prev->symbols;
          prev->quant = '?';
        }
        ++pos;
        continue;
      case '?':
      case '+':
        if (prev) prev->quant = c;
        if (c == '+') sig.has_repeat_ = true;
        ++pos;
        continue;
      case '(': {
        size_t end = FindClosing(text, pos, '(', ')');
        if (end == std::string_view::npos) throw JsonataError("S0401", static_cast<int>(pos));
        std::string_view choice = text.substr(pos + 1, end - pos - 1);
        if (choice.find('<') != std::string_view::npos) throw JsonataError("S0402", static_cast<int>(pos));
        p.symbols = std::string(choice) + "m";
        p.type = '(';
        pos = end;
        break;
      }
      case '<': {
        if (!prev || (prev->type != 'a' && prev->type != 'f')) throw JsonataError("S0401", static_cast<int>(pos));
        size_t end = FindClosing(text, pos, '<', '>');
        if (end == std::string_view::npos) throw JsonataError("S0401", static_cast<int>(pos));
        prev->subtype = std::string(text.substr(pos + 1, end - pos - 1));
        pos = end + 1;
        continue;
      }
      case '>': ++pos; continue;
      default: ++pos; continue;
    }
    sig.params_.push_back(std::move(p));
    prev = &sig.params_.back();
    ++pos;
  }
  return sig;
}

int Signature::MatchFrom(std::string_view s, bool anchored, size_t param_limit, size_t pi, size_t si,
                         std::vector<int>& counts) const {
  // Backtracking, greedy like the regular expression JSONata builds.
  if (pi == param_limit) return (!anchored || si == s.size()) ? static_cast<int>(si) : -1;
  const Param& p = params_[pi];
  auto accepts = [&](size_t i) { return i < s.size() && p.symbols.find(s[i]) != std::string::npos; };
  size_t max_take = 0;
  if (p.quant == '+') {
    while (accepts(si + max_take)) ++max_take;
  } else {
    max_take = accepts(si) ? 1 : 0;
  }
  size_t min_take = (p.quant == '?') ? 0 : 1;
  for (size_t take = max_take + 1; take-- > min_take;) {
    counts[pi] = static_cast<int>(take);
    int r = MatchFrom(s, anchored, param_limit, pi + 1, si + take, counts);
    if (r >= 0) return r;
  }
  return -1;
}

int Signature::Match(std::string_view s, bool anchored, size_t param_limit, std::vector<int>* counts) const {
  std::vector<int> local(param_limit, 0);
  int r = MatchFrom(s, anchored, param_limit, 0, 0, local);
  if (r >= 0 && counts) *counts = std::move(local);
  return r;
}

namespace {

// Array parameters: checks a<t> item types and wraps a single value.
void CheckArrayArg(const char type, const std::string& subtype, char single, size_t index, Value& arg) {
  if (type != 'a' || single == 'm') return;
  bool ok = true;
  if (!subtype.empty()) {
    if (single != 'a') {
      ok = (single == subtype[0] && subtype.size() == 1);
    } else if (arg.size() > 0) {
      char item_type = SignatureSymbol(arg.as_array()[0]);
      if (item_type != subtype[0]) {
        ok = false;
      } else {
        for (const auto& item : arg.as_array())
          if (SignatureSymbol(item) != item_type) ok = false;
      }
    }
  }
  if (!ok) {
    JsonataError e("T0412");
    e.index = static_cast<int>(index + 1);
    e.value = arg;
    e.detail = subtype;
    throw e;
  }
  if (single != 'a') arg = Value::MakeArray({std::move(arg)});
}

}  // namespace

std::vector<Value> Signature::Validate(std::vector<Value> args, const Value& context) const {
  std::string supplied;
  supplied.reserve(args.size());
  for (const auto& a : args) supplied += SignatureSymbol(a);
  std::vector<int> counts;
  // One argument per parameter, each accepted by its parameter: that is the
  // only way such a call can match, so the backtracking matcher is skipped.
  bool direct = !has_repeat_ && args.size() == params_.size();
  for (size_t i = 0; direct && i < args.size(); ++i) direct = params_[i].symbols.find(supplied[i]) != std::string::npos;
  if (direct) {
    for (size_t i = 0; i < args.size(); ++i)
      CheckArrayArg(params_[i].type, params_[i].subtype, supplied[i], i, args[i]);
    return args;
  }
  if (Match(supplied, true, params_.size(), &counts) < 0) {
    // Find the first argument that fails, as JSONata reports it.
    int good_to = 0;
    for (size_t i = 1; i <= params_.size(); ++i) {
      int m = Match(supplied, false, i, nullptr);
      if (m < 0) break;
      good_to = m;
    }
    JsonataError e("T0410");
    e.index = good_to + 1;
    if (static_cast<size_t>(good_to) < args.size()) e.value = args[good_to];
    throw e;
  }
  std::vector<Value> out;
  out.reserve(params_.size());
  size_t arg_index = 0;
  for (size_t pi = 0; pi < params_.size(); ++pi) {
    const Param& p = params_[pi];
    int n = counts[pi];
    if (n == 0) {
      if (p.context) {
        char sym = SignatureSymbol(context);
        if (p.context_symbols.find(sym) != std::string::npos) {
          out.push_back(context);
        } else {
          JsonataError e("T0411");
          e.index = static_cast<int>(arg_index + 1);
          e.value = context;
          throw e;
        }
      } else {
        // optional and absent
        if (arg_index < args.size()) {
          out.push_back(args[arg_index]);
        } else {
          out.emplace_back();
        }
        // JSONata advances past an absent optional argument slot.
        ++arg_index;
      }
      continue;
    }
    // An absent optional argument before this one took a slot (above), so
    // the arguments may run out: what is missing is undefined, as in
    // jsonata-js.
    for (int k = 0; k < n; ++k, ++arg_index) {
      if (arg_index >= args.size()) {
        out.emplace_back();
        continue;
      }
      Value arg = std::move(args[arg_index]);
      CheckArrayArg(p.type, p.subtype, supplied[arg_index], arg_index, arg);
      out.push_back(std::move(arg));
    }
  }
  return out;
}

}  // namespace weft::expr
