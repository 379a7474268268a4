#include "yaml_reader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "weft/core/utf8.h"

namespace weft::dsl {

namespace {

// Aliases let a few lines stand for billions of nodes ("billion laughs");
// everything downstream walks the expanded tree, so refuse such documents.
constexpr size_t kMaxExpandedNodes = 1'000'000;

bool WithinNodeBudget(const YAML::Node& root) {
  size_t seen = 0;
  std::vector<YAML::Node> stack{root};
  while (!stack.empty()) {
    YAML::Node n = stack.back();
    stack.pop_back();
    if (++seen > kMaxExpandedNodes) return false;
    if (n.IsSequence()) {
      for (const YAML::Node& child : n) stack.push_back(child);
    } else if (n.IsMap()) {
      for (const auto& kv : n) {
        stack.push_back(kv.first);
        stack.push_back(kv.second);
      }
    }
  }
  return true;
}

// Notes where a document's first node is, and whether it has any that is
// not null.
class DocumentProbe final : public YAML::EventHandler {
 public:
  bool has_content() const { return has_content_; }
  const YAML::Mark& first() const { return first_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { Note(m, false); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { Note(m, true); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { Note(m, true); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Note(m, true);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Note(m, true);
  }
  void OnMapEnd() override {}

 private:
  void Note(const YAML::Mark& m, bool content) {
    if (!has_content_ && content) first_ = m;
    has_content_ = has_content_ || content;
  }
  bool has_content_ = false;
  YAML::Mark first_;
};

// Where a second document with content begins (a trailing '---' with
// nothing after it is none). Reads two documents at most.
std::optional<YAML::Mark> SecondDocument(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentProbe first, second;
  if (!parser.HandleNextDocument(first) || !parser.HandleNextDocument(second) || !second.has_content()) {
    return std::nullopt;
  }
  return second.first();
}

}  // namespace

// Position of the first byte that is not part of valid UTF-8, or npos.
size_t FirstInvalidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t n = ValidUtf8SequenceLength(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

Result<YAML::Node> ParseYaml(std::string_view text, std::string_view file, Diagnostics* diagnostics) {
  SourceLocation where{std::string(file)};
  std::string message;
  // YAML is Unicode text; bytes that are not UTF-8 would reach schema checks
  // and messages as garbage. Refuse them where they are.
  if (size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos) {
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < bad; ++i) {
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    where = {std::string(file), line, static_cast<int>(bad - line_start) + 1};
    char byte[8];
    snprintf(byte, sizeof(byte), "0x%02X", static_cast<unsigned char>(text[bad]));
    message = std::string("the file is not valid UTF-8 (byte ") + byte + ")";
    if (diagnostics != nullptr) diagnostics->Error(where, message);
    return InvalidArgumentError(where.ToString() + ": " + message);
  }
  try {
    const std::string owned(text);
    YAML::Node root = YAML::Load(owned);
    // A second document would be dropped without a word (YAML::Load stops
    // after the first). YAML::LoadAll is no way to see it: on some
    // malformed input it yields empty documents without end.
    if (std::optional<YAML::Mark> second = SecondDocument(owned)) {
      where = {std::string(file), second->line + 1, second->column + 1};
      message = "a second YAML document begins here; a file holds one (remove the '---' or split the file)";
      if (diagnostics != nullptr) diagnostics->Error(where, message);
      return InvalidArgumentError(where.ToString() + ": " + message);
    }
    if (WithinNodeBudget(root)) return root;
    message = "document too large (more than 1,000,000 nodes once aliases are expanded)";
  } catch (const YAML::DeepRecursion& e) {
    if (!e.mark.is_null()) where = {std::string(file), e.mark.line + 1, e.mark.column + 1};
    message = "the document nests more than " + std::to_string(e.depth()) + " levels deep";
  } catch (const YAML::Exception& e) {
    if (!e.mark.is_null()) where = {std::string(file), e.mark.line + 1, e.mark.column + 1};
    message = "invalid YAML: " + e.msg;
  } catch (const std::exception& e) {
    message = std::string("invalid YAML: ") + e.what();
  }
  if (diagnostics != nullptr) diagnostics->Error(where, message);
  return InvalidArgumentError(where.ToString() + ": " + message);
}

SourceLocation LocationOf(const YAML::Node& node, const std::string& file) {
  YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

bool IsQuotedScalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "!"; }

namespace {

bool IsNullWord(const std::string& s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

bool ParseDecimal(const std::string& s, double& out) {
  // YAML 1.2 core schema: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  if (i != s.size()) return false;
  const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range) {
    out = (s[0] == '-') ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool ParseRadix(const std::string& s, double& out) {
  if (s.size() < 3 || s[0] != '0') return false;
  int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 0;
  if (base == 0) return false;
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), n, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return false;
  out = static_cast<double>(n);
  return true;
}

Value PlainScalar(const std::string& s) {
  if (IsNullWord(s)) return Value::Null();
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  double d = 0;
  if (ParseDecimal(s, d) || ParseRadix(s, d)) return d;
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -std::numeric_limits<double>::infinity();
  return s;
}

}  // namespace

Value YamlToValue(const YAML::Node& root, const std::string& file, Diagnostics& diagnostics) {
  // Iterative, so that a deeply nested document cannot overflow the stack.
  // Containers are first filled with placeholders in document order; a child
  // is attached (set() keeps a member's position) once its own children are.
  struct Frame {
    YAML::Node node;
    Value* target;
  };
  struct Attach {
    Value* parent;
    std::string key;
    size_t index;
    Value* child;
  };
  // Aliases can make a small document expand exponentially; stop early.
  constexpr size_t kMaxNodes = 1'000'000;
  size_t nodes = 0;
  Value result;
  std::vector<Frame> stack{{root, &result}};
  std::vector<std::unique_ptr<Value>> children;
  std::vector<Attach> attachments;
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    if (++nodes > kMaxNodes) {
      diagnostics.Error(LocationOf(root, file),
                        "document too large (more than 1,000,000 nodes after expanding aliases)");
      return Value::Null();
    }
    const YAML::Node& n = f.node;
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: *f.target = Value::Null(); break;
      case YAML::NodeType::Scalar: {
        const std::string& tag = n.Tag();
        bool typed = tag == "?" || tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
                     tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null";
        *f.target = typed ? PlainScalar(n.Scalar()) : Value(n.Scalar());
        break;
      }
      case YAML::NodeType::Sequence: {
        *f.target = Value::MakeArray();
        f.target->mutable_array().resize(n.size());
        size_t i = 0;
        for (const YAML::Node& child : n) {
          children.push_back(std::make_unique<Value>());
          attachments.push_back({f.target, {}, i++, children.back().get()});
          stack.push_back({child, children.back().get()});
        }
        break;
      }
      case YAML::NodeType::Map: {
        *f.target = Value::MakeObject();
        std::unordered_set<std::string> seen;
        for (const auto& kv : n) {
          if (!kv.first.IsScalar()) {
            diagnostics.Error(LocationOf(kv.first, file), "mapping keys must be plain strings");
            continue;
          }
          const std::string& key = kv.first.Scalar();
          if (!seen.insert(key).second) {
            diagnostics.Error(LocationOf(kv.first, file), "duplicate key '" + key + "'");
          }
          f.target->set(key, Value::Null());
          children.push_back(std::make_unique<Value>());
          attachments.push_back({f.target, key, 0, children.back().get()});
          stack.push_back({kv.second, children.back().get()});
        }
        break;
      }
    }
  }
  // A node's attachment is recorded before those of its children, so walking
  // backwards completes every child before it is moved into its parent.
  for (auto it = attachments.rbegin(); it != attachments.rend(); ++it) {
    if (it->parent->is_array()) {
      it->parent->mutable_array()[it->index] = std::move(*it->child);
    } else {
      it->parent->set(it->key, std::move(*it->child));
    }
  }
  return result;
}

}  // namespace weft::dsl
