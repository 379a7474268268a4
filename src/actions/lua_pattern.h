// Lua 5.4 patterns (string.find, match, gmatch, gsub), matched with a step
// budget.
//
// Lua's own matcher backtracks inside one C call, where the sandbox's
// instruction hook never runs: `('a'):rep(26):find(('a?'):rep(26)..('a'):rep(26))`
// takes 2^26 steps, `('a'):rep(1e6):find('.*b')` 10^12. This matcher follows
// the same rules (the Lua manual's §6.4.1) and counts every step against the
// script's instruction budget and deadline, so a pattern ends when the script's
// budget does, however it backtracks. It is plain C++ over a byte range; the
// Lua bindings live in lua_strings.cc.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace weft::actions::internal {

inline constexpr int kMaxPatternCaptures = 32;  // as LUA_MAXCAPTURES

// What matching may still spend. Steps are comparable to Lua instructions.
struct MatchBudget {
  int64_t steps = INT64_MAX;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool exhausted = false;  // set when matching stopped for the budget
};

class PatternMatcher {
 public:
  // `subject` and `pattern` must stay alive while the matcher is used.
  PatternMatcher(std::string_view subject, std::string_view pattern, MatchBudget* budget)
      : src_(subject.data()),
        src_end_(subject.data() + subject.size()),
        pat_end_(pattern.data() + pattern.size()),
        budget_(budget) {}

  // Tries to match `pattern` (from `p`, which points into the pattern given
  // to the constructor) at subject position `s`. Returns the end of the
  // match, or nullptr. On a malformed pattern or an exhausted budget returns
  // nullptr and error() says why (a static message; %d in it is the capture
  // index in error_arg()).
  const char* MatchAt(const char* s, const char* p) noexcept;

  const char* error() const { return error_; }
  int error_arg() const { return error_arg_; }
  int levels() const { return level_; }

  // Capture i (0-based) after a successful match: a position (1-based) or a
  // piece of the subject.
  struct Capture {
    bool is_position = false;
    size_t position = 0;
    std::string_view text;
  };
  // Returns false (and sets error()) for an invalid or unfinished capture.
  bool GetCapture(int i, const char* s, const char* e, Capture& out);

  const char* subject_begin() const { return src_; }
  const char* subject_end() const { return src_end_; }

 private:
  struct Failure {};  // thrown inside Match, caught by MatchAt

  const char* Match(const char* s, const char* p);
  const char* MaxExpand(const char* s, const char* p, const char* ep);
  const char* MinExpand(const char* s, const char* p, const char* ep);
  const char* StartCapture(const char* s, const char* p, ptrdiff_t what);
  const char* EndCapture(const char* s, const char* p);
  const char* MatchBalance(const char* s, const char* p);
  const char* MatchCapture(const char* s, int l);
  const char* ClassEnd(const char* p);
  bool SingleMatch(const char* s, const char* p, const char* ep) const;
  int CaptureToClose();
  void Step();
  [[noreturn]] void Fail(const char* message, int arg = 0);

  static constexpr ptrdiff_t kUnfinished = -1;
  static constexpr ptrdiff_t kPosition = -2;
  struct Slot {
    const char* init;
    ptrdiff_t len;
  };

  const char* src_;
  const char* src_end_;
  const char* pat_end_;
  MatchBudget* budget_;
  int level_ = 0;
  int depth_ = 0;
  Slot capture_[kMaxPatternCaptures] = {};
  const char* error_ = nullptr;
  int error_arg_ = 0;
};

// True when `pattern` has no magic characters (a plain search does).
bool PatternHasNoSpecials(std::string_view pattern);

}  // namespace weft::actions::internal
