// weft::Value: the immutable-by-default JSON value that flows through weft.
//
// A Value is one of: undefined (absent), null, boolean, number (IEEE double, as
// in JSON and JavaScript), string (UTF-8), array, object (keys keep insertion
// order), or function (a callable produced by the expression engine).
//
// Strings, arrays, objects and functions live on the heap behind an atomic
// reference count, so copying a Value is O(1) and a Value may be shared
// between threads as long as nobody mutates it. The mutable_* accessors exist
// for code that builds a value it has just created and not yet shared (the JSON
// parser, the expression evaluator); using them on a shared value is a bug.
//
// Arrays carry a few flags used by the expression engine to implement JSONata
// sequence semantics; they are invisible to JSON serialization.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "weft/core/memory_budget.h"

namespace weft {

class Value;

namespace detail {

enum class HeapKind : uint8_t { kString, kArray, kObject, kFunction };

struct HeapNode {
  explicit HeapNode(HeapKind k) : kind(k) {}
  std::atomic<uint32_t> refs{1};
  HeapKind kind;
};

}  // namespace detail

// Flags carried by arrays; meaningful only to the expression engine.
enum ArrayFlags : uint8_t {
  kArraySequence = 1,       // a result sequence, not a user array
  kArrayKeepSingleton = 2,  // a one-element sequence that must stay an array
  kArrayCons = 4,           // built by an array constructor `[...]`
  kArrayOuterWrapper = 8,   // wraps an input document that was itself an array
  kArrayTupleStream = 16,   // items are tuple binding objects
};

// Base class of callable values. The expression engine derives from it.
class FunctionObject : public detail::HeapNode {
 public:
  FunctionObject() : HeapNode(detail::HeapKind::kFunction) {}
  virtual ~FunctionObject() = default;
  FunctionObject(const FunctionObject&) = delete;
  FunctionObject& operator=(const FunctionObject&) = delete;
  // Number of declared parameters, as reported to higher-order functions.
  virtual int arity() const = 0;
};

class Value {
 public:
  enum class Kind : uint8_t { kUndefined, kNull, kBool, kNumber, kString, kArray, kObject, kFunction };
  // Arrays and object members charge their storage to the thread's
  // MemoryBudget (memory_budget.h), as every heap node does.
  using Array = std::vector<Value, BudgetedAllocator<Value>>;
  struct Member;  // {key, value}; defined below
  using Members = std::vector<Member, BudgetedAllocator<Member>>;

  Value() noexcept : kind_(Kind::kUndefined), raw_(0) {}
  Value(std::nullptr_t) noexcept : kind_(Kind::kNull), raw_(0) {}  // NOLINT(google-explicit-constructor)
  Value(bool b) noexcept : kind_(Kind::kBool), raw_(b ? 1 : 0) {}  // NOLINT(google-explicit-constructor)
  Value(double n) noexcept : kind_(Kind::kNumber), n_(n) {}        // NOLINT(google-explicit-constructor)
  Value(int n) noexcept : kind_(Kind::kNumber), n_(n) {}           // NOLINT(google-explicit-constructor)
  Value(int64_t n) noexcept : kind_(Kind::kNumber), n_(static_cast<double>(n)) {}  // NOLINT
  Value(size_t n) noexcept : kind_(Kind::kNumber), n_(static_cast<double>(n)) {}   // NOLINT
  Value(std::string s);                                 // NOLINT(google-explicit-constructor)
  Value(std::string_view s) : Value(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Value(const char* s) : Value(std::string(s)) {}       // NOLINT(google-explicit-constructor)

  static Value Null() { return Value(nullptr); }
  static Value MakeArray(Array items = {}, uint8_t flags = 0);
  static Value MakeObject();
  // An object with room for `members` members (no reallocation while filling).
  static Value MakeObject(size_t members);
  // Takes ownership of a freshly created function object (refcount 1).
  static Value FromFunction(FunctionObject* fn);

  Value(const Value& o) noexcept : kind_(o.kind_), raw_(o.raw_) {
    if (is_heap()) p_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  Value(Value&& o) noexcept : kind_(o.kind_), raw_(o.raw_) { o.kind_ = Kind::kUndefined; }
  Value& operator=(const Value& o) noexcept {
    if (this != &o) {
      Value tmp(o);
      swap(tmp);
    }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      release();
      kind_ = o.kind_;
      raw_ = o.raw_;
      o.kind_ = Kind::kUndefined;
    }
    return *this;
  }
  ~Value() { release(); }

  void swap(Value& o) noexcept {
    std::swap(kind_, o.kind_);
    std::swap(raw_, o.raw_);
  }

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_defined() const { return kind_ != Kind::kUndefined; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  bool as_bool() const { return raw_ != 0; }
  double as_number() const { return n_; }
  const std::string& as_string() const;
  const Array& as_array() const;
  const Members& members() const;
  FunctionObject* as_function() const { return static_cast<FunctionObject*>(p_); }

  // Array flags (0 for non-arrays).
  uint8_t array_flags() const;
  bool has_flag(ArrayFlags f) const { return (array_flags() & f) != 0; }
  bool is_sequence() const { return is_array() && has_flag(kArraySequence); }

  // Object member lookup; nullptr when absent or not an object.
  const Value* find(std::string_view key) const;
  // Convenience: the member's value, or undefined.
  Value get(std::string_view key) const {
    const Value* v = find(key);
    return v ? *v : Value();
  }
  size_t size() const;  // array length or object member count; 0 otherwise

  // Mutation of a value this code owns exclusively (see class comment).
  Array& mutable_array();
  void set_array_flags(uint8_t flags);
  // Sets or replaces a member; a replaced member keeps its position.
  void set(std::string key, Value v);
  // The member named `key`, appended as undefined when absent (the key is
  // copied only then): for updating members in place.
  Value& mutable_member(std::string_view key);
  bool erase(std::string_view key);
  void push_back(Value v) { mutable_array().push_back(std::move(v)); }

  // True when no other Value shares this heap node.
  bool unique() const { return !is_heap() || p_->refs.load(std::memory_order_acquire) == 1; }
  // Identity of the heap node (for reference equality); null for scalars.
  const void* identity() const { return is_heap() ? p_ : nullptr; }

  // Structural equality (numbers by value, objects ignoring member order).
  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  bool is_heap() const { return kind_ >= Kind::kString; }
  void release() noexcept {
    if (is_heap() && p_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(p_);
  }
  static void destroy(detail::HeapNode* n) noexcept;

  Kind kind_;
  // One word of payload: raw_ for copies and booleans, n_ for numbers, p_ for
  // heap kinds (GCC/Clang define reading the other union members).
  union {
    uint64_t raw_;
    double n_;
    detail::HeapNode* p_;
  };
};

struct Value::Member {
  std::string key;
  Value value;
};

// Roughly the memory `v` holds: its strings, keys, items and members. The
// count stops soon after passing `limit` (the result is then >= limit), so
// asking whether a huge value is small costs little. Iterative: any depth.
size_t ApproxBytes(const Value& v, size_t limit = SIZE_MAX);

// Name of a kind as JSONata's $type reports it ("string", "object", ...).
std::string_view KindName(Value::Kind k);

// A list of names as an array of strings, and back (what is not a string,
// or not an array, gives nothing).
Value StringArray(const std::vector<std::string>& items);
std::vector<std::string> StringsOf(const Value& array);

}  // namespace weft
