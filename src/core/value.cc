#include "weft/core/value.h"

#include <cassert>
#include <cstring>
#include <vector>

namespace weft {
namespace {

// Each node charges the thread's MemoryBudget for itself; the storage of
// arrays and members is charged by their allocator, a string's here.
struct StringNode : detail::HeapNode {
  explicit StringNode(std::string s) : HeapNode(detail::HeapKind::kString), str(std::move(s)) {
    ChargeMemory(sizeof(StringNode) + str.size());
  }
  std::string str;
};

struct ArrayNode : detail::HeapNode {
  ArrayNode(Value::Array v, uint8_t f) : HeapNode(detail::HeapKind::kArray), items(std::move(v)), flags(f) {
    ChargeMemory(sizeof(ArrayNode));
  }
  Value::Array items;
  uint8_t flags;
};

// Objects keep members in insertion order. Small objects (the common case in
// workflow state) are searched linearly; larger ones get a hash index.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using KeyIndex = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

struct ObjectNode : detail::HeapNode {
  static constexpr size_t kIndexThreshold = 12;
  ObjectNode() : HeapNode(detail::HeapKind::kObject) { ChargeMemory(sizeof(ObjectNode)); }
  Value::Members members;
  std::unique_ptr<KeyIndex> index;  // owns copies of the keys

  const Value::Member* find(std::string_view key) const {
    if (index) {
      auto it = index->find(key);
      return it == index->end() ? nullptr : &members[it->second];
    }
    for (const auto& m : members) {
      // size and first byte decide most mismatches without calling memcmp
      if (m.key.size() == key.size() && (key.empty() || m.key[0] == key[0]) &&
          std::memcmp(m.key.data(), key.data(), key.size()) == 0)
        return &m;
    }
    return nullptr;
  }
  void rebuild_index() {
    if (members.size() < kIndexThreshold) {
      index.reset();
      return;
    }
    // the index's nodes and key copies, roughly
    ChargeMemory(members.size() * (sizeof(KeyIndex::value_type) + 3 * sizeof(void*)));
    index = std::make_unique<KeyIndex>();
    index->reserve(members.size() * 2);
    for (uint32_t i = 0; i < members.size(); ++i) (*index)[members[i].key] = i;
  }
};

const std::string& EmptyString() {
  static const std::string empty;
  return empty;
}
const Value::Array& EmptyArray() {
  static const Value::Array empty;
  return empty;
}
const Value::Members& EmptyMembers() {
  static const Value::Members empty;
  return empty;
}

}  // namespace

Value::Value(std::string s) : kind_(Kind::kString), p_(new StringNode(std::move(s))) {}

// Nodes are made before the Value takes them: a constructor that throws
// (a MemoryBudget charge) must leave no half-made Value behind.
Value Value::MakeArray(Array items, uint8_t flags) {
  auto* node = new ArrayNode(std::move(items), flags);
  Value v;
  v.kind_ = Kind::kArray;
  v.p_ = node;
  return v;
}

Value Value::MakeObject() {
  auto* node = new ObjectNode();
  Value v;
  v.kind_ = Kind::kObject;
  v.p_ = node;
  return v;
}

Value Value::MakeObject(size_t members) {
  auto node = std::make_unique<ObjectNode>();
  node->members.reserve(members);
  Value v;
  v.kind_ = Kind::kObject;
  v.p_ = node.release();
  return v;
}

Value Value::FromFunction(FunctionObject* fn) {
  Value v;
  v.kind_ = Kind::kFunction;
  v.p_ = fn;
  // Function objects differ in size; closures are a few hundred bytes.
  ChargeMemory(256);
  return v;
}

namespace {

void DeleteNode(detail::HeapNode* n) noexcept {
  switch (n->kind) {
    case detail::HeapKind::kString: delete static_cast<StringNode*>(n); break;
    case detail::HeapKind::kArray: delete static_cast<ArrayNode*>(n); break;
    case detail::HeapKind::kObject: delete static_cast<ObjectNode*>(n); break;
    case detail::HeapKind::kFunction: delete static_cast<FunctionObject*>(n); break;
  }
}

// Freeing a value frees its children from their destructors: recursion as
// deep as the value. Past kMaxRecursion the nested nodes are queued and the
// outermost destroy() frees them in a loop, so a value nested a million
// levels deep is freed without exhausting the stack.
constexpr int kMaxRecursion = 256;
thread_local int t_destroy_depth = 0;
thread_local std::vector<detail::HeapNode*>* t_deferred = nullptr;

}  // namespace

void Value::destroy(detail::HeapNode* n) noexcept {
  if (t_destroy_depth >= kMaxRecursion && t_deferred) {
    t_deferred->push_back(n);
    return;
  }
  ++t_destroy_depth;
  std::vector<detail::HeapNode*> deferred;
  const bool outermost = t_deferred == nullptr;
  if (outermost) t_deferred = &deferred;
  DeleteNode(n);
  if (outermost) {
    while (!deferred.empty()) {
      detail::HeapNode* next = deferred.back();
      deferred.pop_back();
      DeleteNode(next);
    }
    t_deferred = nullptr;
  }
  --t_destroy_depth;
}

const std::string& Value::as_string() const { return is_string() ? static_cast<StringNode*>(p_)->str : EmptyString(); }
const Value::Array& Value::as_array() const { return is_array() ? static_cast<ArrayNode*>(p_)->items : EmptyArray(); }
const Value::Members& Value::members() const {
  return is_object() ? static_cast<ObjectNode*>(p_)->members : EmptyMembers();
}
uint8_t Value::array_flags() const { return is_array() ? static_cast<ArrayNode*>(p_)->flags : 0; }

const Value* Value::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  const Member* m = static_cast<ObjectNode*>(p_)->find(key);
  return m ? &m->value : nullptr;
}

size_t Value::size() const {
  if (is_array()) return static_cast<ArrayNode*>(p_)->items.size();
  if (is_object()) return static_cast<ObjectNode*>(p_)->members.size();
  return 0;
}

Value::Array& Value::mutable_array() {
  assert(is_array());
  return static_cast<ArrayNode*>(p_)->items;
}

void Value::set_array_flags(uint8_t flags) {
  assert(is_array());
  static_cast<ArrayNode*>(p_)->flags = flags;
}

void Value::set(std::string key, Value v) {
  assert(is_object());
  if (!is_object()) return;  // release builds: ignore rather than corrupt memory
  auto* o = static_cast<ObjectNode*>(p_);
  if (const Member* m = o->find(key)) {
    const_cast<Member*>(m)->value = std::move(v);
    return;
  }
  if (o->index) {
    o->index->emplace(key, static_cast<uint32_t>(o->members.size()));
    o->members.push_back(Member{std::move(key), std::move(v)});
    return;
  }
  o->members.push_back(Member{std::move(key), std::move(v)});
  if (o->members.size() >= ObjectNode::kIndexThreshold) o->rebuild_index();
}

Value& Value::mutable_member(std::string_view key) {
  assert(is_object());
  auto* o = static_cast<ObjectNode*>(p_);
  if (const Member* m = o->find(key)) return const_cast<Member*>(m)->value;
  set(std::string(key), Value());
  return o->members.back().value;
}

bool Value::erase(std::string_view key) {
  if (!is_object()) return false;
  auto* o = static_cast<ObjectNode*>(p_);
  for (auto it = o->members.begin(); it != o->members.end(); ++it) {
    if (it->key == key) {
      o->members.erase(it);
      o->rebuild_index();
      return true;
    }
  }
  return false;
}

bool operator==(const Value& a, const Value& b) {
  // Iterative, so that deeply nested values cannot exhaust the stack.
  std::vector<std::pair<const Value*, const Value*>> work;
  work.emplace_back(&a, &b);
  while (!work.empty()) {
    auto [x, y] = work.back();
    work.pop_back();
    if (x->kind_ != y->kind_) return false;
    switch (x->kind_) {
      case Value::Kind::kUndefined:
      case Value::Kind::kNull: break;
      case Value::Kind::kBool:
        if (x->as_bool() != y->as_bool()) return false;
        break;
      case Value::Kind::kNumber:
        if (x->n_ != y->n_) return false;
        break;
      case Value::Kind::kString:
        if (x->p_ != y->p_ && x->as_string() != y->as_string()) return false;
        break;
      case Value::Kind::kArray: {
        if (x->p_ == y->p_) break;
        const auto& xa = x->as_array();
        const auto& ya = y->as_array();
        if (xa.size() != ya.size()) return false;
        for (size_t i = 0; i < xa.size(); ++i) work.emplace_back(&xa[i], &ya[i]);
        break;
      }
      case Value::Kind::kObject: {
        if (x->p_ == y->p_) break;
        if (x->size() != y->size()) return false;
        for (const auto& m : x->members()) {
          const Value* other = y->find(m.key);
          if (!other) return false;
          work.emplace_back(&m.value, other);
        }
        break;
      }
      case Value::Kind::kFunction:
        if (x->p_ != y->p_) return false;
        break;
    }
  }
  return true;
}

std::string_view KindName(Value::Kind k) {
  switch (k) {
    case Value::Kind::kUndefined: return "undefined";
    case Value::Kind::kNull: return "null";
    case Value::Kind::kBool: return "boolean";
    case Value::Kind::kNumber: return "number";
    case Value::Kind::kString: return "string";
    case Value::Kind::kArray: return "array";
    case Value::Kind::kObject: return "object";
    case Value::Kind::kFunction: return "function";
  }
  return "unknown";
}

size_t ApproxBytes(const Value& v, size_t limit) {
  constexpr size_t kNode = sizeof(Value) + 16;  // a slot plus its heap node's header
  size_t total = kNode;
  std::vector<const Value*> pending{&v};
  // A container's slots are counted before its children are looked at, so
  // a huge array stops the count before its items are even listed.
  while (!pending.empty() && total < limit) {
    const Value* next = pending.back();
    pending.pop_back();
    if (next->is_string()) {
      total += next->as_string().size();
    } else if (next->is_array()) {
      total += next->as_array().size() * kNode;
      if (total >= limit) break;
      for (const Value& item : next->as_array()) pending.push_back(&item);
    } else if (next->is_object()) {
      total += next->members().size() * kNode;
      for (const Value::Member& m : next->members()) total += m.key.size();
      if (total >= limit) break;
      for (const Value::Member& m : next->members()) pending.push_back(&m.value);
    }
  }
  return total;
}

}  // namespace weft
