#include "lua_pattern.h"

#include <cctype>
#include <cstring>

namespace weft::actions::internal {
namespace {

constexpr int kMaxMatchDepth = 200;    // recursion, as MAXCCALLS in Lua
constexpr int64_t kClockEvery = 4096;  // steps between deadline checks

unsigned char U(char c) { return static_cast<unsigned char>(c); }

bool MatchClass(int c, int cl) {
  bool res;
  switch (std::tolower(cl)) {
    case 'a': res = std::isalpha(c) != 0; break;
    case 'c': res = std::iscntrl(c) != 0; break;
    case 'd': res = std::isdigit(c) != 0; break;
    case 'g': res = std::isgraph(c) != 0; break;
    case 'l': res = std::islower(c) != 0; break;
    case 'p': res = std::ispunct(c) != 0; break;
    case 's': res = std::isspace(c) != 0; break;
    case 'u': res = std::isupper(c) != 0; break;
    case 'w': res = std::isalnum(c) != 0; break;
    case 'x': res = std::isxdigit(c) != 0; break;
    default: return cl == c;  // %. and the like: the character itself
  }
  return std::isupper(cl) != 0 ? !res : res;
}

// `p` is at '[', `ec` at the closing ']'.
bool MatchBracketClass(int c, const char* p, const char* ec) {
  bool sig = true;
  if (*(p + 1) == '^') {
    sig = false;
    ++p;
  }
  while (++p < ec) {
    if (*p == '%') {
      ++p;
      if (MatchClass(c, U(*p))) return sig;
    } else if (*(p + 1) == '-' && p + 2 < ec) {
      p += 2;
      if (U(*(p - 2)) <= c && c <= U(*p)) return sig;
    } else if (U(*p) == c) {
      return sig;
    }
  }
  return !sig;
}

}  // namespace

bool PatternHasNoSpecials(std::string_view pattern) {
  return pattern.find_first_of(std::string_view("^$*+?.([%-", 10)) == std::string_view::npos;
}

void PatternMatcher::Fail(const char* message, int arg) {
  error_ = message;
  error_arg_ = arg;
  throw Failure{};
}

void PatternMatcher::Step() {
  MatchBudget& b = *budget_;
  if (--b.steps < 0 || ((b.steps % kClockEvery) == 0 && std::chrono::steady_clock::now() > b.deadline)) {
    b.exhausted = true;
    Fail("pattern matching exhausted the script's budget");
  }
}

const char* PatternMatcher::MatchAt(const char* s, const char* p) noexcept {
  level_ = 0;
  depth_ = 0;
  error_ = nullptr;
  try {
    return Match(s, p);
  } catch (const Failure&) {
    return nullptr;
  }
}

const char* PatternMatcher::ClassEnd(const char* p) {
  switch (*p++) {
    case '%':
      if (p >= pat_end_) Fail("malformed pattern (ends with '%%')");
      return p + 1;
    case '[':
      if (*p == '^') ++p;
      do {  // the first character after '[' (or '[^') is literal, even ']'
        if (p >= pat_end_) Fail("malformed pattern (missing ']')");
        if (*(p++) == '%' && p < pat_end_) ++p;
      } while (*p != ']');
      return p + 1;
    default: return p;
  }
}

bool PatternMatcher::SingleMatch(const char* s, const char* p, const char* ep) const {
  if (s >= src_end_) return false;
  const int c = U(*s);
  switch (*p) {
    case '.': return true;
    case '%': return MatchClass(c, U(*(p + 1)));
    case '[': return MatchBracketClass(c, p, ep - 1);
    default: return U(*p) == c;
  }
}

const char* PatternMatcher::MatchBalance(const char* s, const char* p) {
  if (p + 1 >= pat_end_) Fail("malformed pattern (missing arguments to '%%b')");
  if (s >= src_end_ || *s != *p) return nullptr;
  const char b = *p, e = *(p + 1);
  int open = 1;
  while (++s < src_end_) {
    Step();
    if (*s == e) {
      if (--open == 0) return s + 1;
    } else if (*s == b) {
      ++open;
    }
  }
  return nullptr;
}

const char* PatternMatcher::MaxExpand(const char* s, const char* p, const char* ep) {
  ptrdiff_t i = 0;
  while (SingleMatch(s + i, p, ep)) {
    Step();
    ++i;
  }
  // Tries the longest run first, then shorter ones.
  while (i >= 0) {
    if (const char* res = Match(s + i, ep + 1)) return res;
    --i;
  }
  return nullptr;
}

const char* PatternMatcher::MinExpand(const char* s, const char* p, const char* ep) {
  for (;;) {
    if (const char* res = Match(s, ep + 1)) return res;
    if (!SingleMatch(s, p, ep)) return nullptr;
    ++s;
  }
}

const char* PatternMatcher::StartCapture(const char* s, const char* p, ptrdiff_t what) {
  if (level_ >= kMaxPatternCaptures) Fail("too many captures");
  capture_[level_].init = s;
  capture_[level_].len = what;
  ++level_;
  const char* res = Match(s, p);
  if (res == nullptr) --level_;  // undo the capture
  return res;
}

int PatternMatcher::CaptureToClose() {
  for (int level = level_ - 1; level >= 0; --level)
    if (capture_[level].len == kUnfinished) return level;
  Fail("invalid pattern capture");
}

const char* PatternMatcher::EndCapture(const char* s, const char* p) {
  const int l = CaptureToClose();
  capture_[l].len = s - capture_[l].init;
  const char* res = Match(s, p);
  if (res == nullptr) capture_[l].len = kUnfinished;  // undo the capture
  return res;
}

const char* PatternMatcher::MatchCapture(const char* s, int l) {
  l -= '1';
  if (l < 0 || l >= level_ || capture_[l].len == kUnfinished) Fail("invalid capture index %%%d", l + 1);
  const auto len = static_cast<size_t>(capture_[l].len);
  if (static_cast<size_t>(src_end_ - s) >= len && std::memcmp(capture_[l].init, s, len) == 0) return s + len;
  return nullptr;
}

const char* PatternMatcher::Match(const char* s, const char* p) {
  if (++depth_ > kMaxMatchDepth) Fail("pattern too complex");
  struct Leave {
    int& depth;
    ~Leave() { --depth; }
  } leave{depth_};
  for (;;) {
    Step();
    if (p == pat_end_) return s;
    switch (*p) {
      case '(':
        if (p + 1 < pat_end_ && *(p + 1) == ')') return StartCapture(s, p + 2, kPosition);
        return StartCapture(s, p + 1, kUnfinished);
      case ')': return EndCapture(s, p + 1);
      case '$':
        if (p + 1 == pat_end_) return s == src_end_ ? s : nullptr;
        break;  // a '$' elsewhere is literal
      case '%':
        if (p + 1 < pat_end_) {
          const char next = *(p + 1);
          if (next == 'b') {
            s = MatchBalance(s, p + 2);
            if (s == nullptr) return nullptr;
            p += 4;
            continue;
          }
          if (next == 'f') {
            p += 2;
            if (p >= pat_end_ || *p != '[') Fail("missing '[' after '%%f' in pattern");
            const char* ep = ClassEnd(p);
            const int prev = s == src_ ? '\0' : U(*(s - 1));
            const int cur = s < src_end_ ? U(*s) : '\0';
            if (!MatchBracketClass(prev, p, ep - 1) && MatchBracketClass(cur, p, ep - 1)) {
              p = ep;
              continue;
            }
            return nullptr;
          }
          if (std::isdigit(U(next)) != 0) {
            s = MatchCapture(s, U(next));
            if (s == nullptr) return nullptr;
            p += 2;
            continue;
          }
        }
        break;
      default: break;
    }
    // A single-character class, maybe with a repetition suffix.
    const char* ep = ClassEnd(p);
    const char suffix = ep < pat_end_ ? *ep : '\0';
    if (!SingleMatch(s, p, ep)) {
      if (suffix == '*' || suffix == '?' || suffix == '-') {  // zero repetitions are fine
        p = ep + 1;
        continue;
      }
      return nullptr;
    }
    switch (suffix) {
      case '?':
        if (const char* res = Match(s + 1, ep + 1)) return res;
        p = ep + 1;
        continue;
      case '+': return MaxExpand(s + 1, p, ep);
      case '*': return MaxExpand(s, p, ep);
      case '-': return MinExpand(s, p, ep);
      default:
        ++s;
        p = ep;
        continue;
    }
  }
}

bool PatternMatcher::GetCapture(int i, const char* s, const char* e, Capture& out) {
  if (i >= level_) {
    if (i != 0) {
      error_ = "invalid capture index %%%d";
      error_arg_ = i + 1;
      return false;
    }
    out = Capture{false, 0, std::string_view(s, static_cast<size_t>(e - s))};  // the whole match
    return true;
  }
  const Slot& c = capture_[i];
  if (c.len == kUnfinished) {
    error_ = "unfinished capture";
    return false;
  }
  if (c.len == kPosition) {
    out = Capture{true, static_cast<size_t>(c.init - src_) + 1, {}};
  } else {
    out = Capture{false, 0, std::string_view(c.init, static_cast<size_t>(c.len))};
  }
  return true;
}

}  // namespace weft::actions::internal
