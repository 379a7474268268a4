// A Pratt (top-down operator precedence) parser with JSONata's binding powers,
// followed by the rewriting pass that builds paths, stages and ancestry.
#include "parser.h"

#include <re2/re2.h>

#include "error.h"
#include "lexer.h"
#include "regex_translate.h"
#include "rewriter.h"
#include "weft/core/utf8.h"

namespace weft::expr {
namespace {

constexpr int kMaxExpressionNesting = 1000;
// A node is about half a kilobyte: 100,000 of them bound the memory one
// compilation takes (an expression a person writes has a few dozen).
constexpr int kMaxExpressionNodes = 100'000;

int BindingPower(const Token& t) {
  if (t.type != TokenType::kOperator) return 0;
  const std::string& op = t.text;
  if (op.size() == 1) {
    switch (op[0]) {
      case '.': return 75;
      case '[': return 80;
      case '{': return 70;
      case '(': return 80;
      case '@': return 80;
      case '#': return 80;
      case '?': return 20;
      case '+':
      case '-': return 50;
      case '*':
      case '/':
      case '%': return 60;
      case '=':
      case '<':
      case '>':
      case '^': return 40;
      case '&': return 50;
      default: return 0;  // ] } ) , ; : | ! ~
    }
  }
  if (op == "!=" || op == "<=" || op == ">=" || op == "~>" || op == "?:" || op == "??" || op == "in") return 40;
  if (op == ":=") return 10;
  if (op == "and") return 30;
  if (op == "or") return 25;
  return 0;  // .. ** and anything unknown
}

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src), lexer_(src) {}

  NodePtr Parse() {
    Advance();
    NodePtr e = Expression(0);
    if (tok_.type != TokenType::kEnd) Fail("S0201", tok_);
    return e;
  }
  int nodes() const { return nodes_; }
  bool double_equals() const { return lexer_.double_equals(); }

 private:
  [[noreturn]] void Fail(const char* code, const Token& t) {
    JsonataError e(code, t.position);
    e.token = t.type == TokenType::kEnd ? "(end)" : t.text;
    throw e;
  }

  bool Is(std::string_view op) const { return tok_.type == TokenType::kOperator && tok_.text == op; }

  // `infix` is true where the next token follows an operand, so '/' is
  // division and cannot start a regular expression.
  void Advance(bool infix = false) {
    tok_ = lexer_.Next(infix);
    if (tok_.type == TokenType::kOperator && (tok_.text == "!" || tok_.text == "~")) {
      JsonataError e("S0204", tok_.position);
      e.token = tok_.text;
      throw e;
    }
  }

  // Consumes the expected operator token.
  void Expect(std::string_view op, bool infix = false) {
    if (!Is(op)) {
      JsonataError e(tok_.type == TokenType::kEnd ? "S0203" : "S0202", tok_.position);
      e.token = tok_.type == TokenType::kEnd ? "(end)" : tok_.text;
      e.value = Value(std::string(op));
      throw e;
    }
    Advance(infix);
  }

  // The height of the tree being built: each nested call and each operator
  // applied to the left operand adds a level (`1+1+1...` builds its height
  // in a loop, not by recursing), so a tree too tall for the passes after
  // the parser is refused before it is built.
  void AddLevel(int position) {
    if (++depth_ > kMaxExpressionNesting) {
      JsonataError e("S0501", position);
      e.value = Value(kMaxExpressionNesting);
      throw e;
    }
  }

  NodePtr Expression(int rbp) {
    // Nested brackets, parentheses and prefix operators recurse here.
    struct Level {
      explicit Level(int& d) : depth(d), saved(d) {}
      ~Level() { depth = saved; }
      int& depth;
      int saved;
    } level(depth_);
    AddLevel(tok_.position);
    Token t = std::move(tok_);
    Advance(true);
    NodePtr left = Nud(t);
    while (rbp < BindingPower(tok_)) {
      Token op = std::move(tok_);
      AddLevel(op.position);
      Advance();
      left = Led(op, std::move(left));
    }
    return left;
  }

  NodePtr Make(NodeType type, const Token& t) { return MakeAt(type, t.position); }
  NodePtr MakeAt(NodeType type, int position) {
    if (++nodes_ > kMaxExpressionNodes) {
      JsonataError e("S0502", position);
      e.value = Value(kMaxExpressionNodes);
      throw e;
    }
    return std::make_unique<Node>(type, position);
  }

  NodePtr Nud(const Token& t) {
    switch (t.type) {
      case TokenType::kEnd:
        // As in JSONata, the end token is an operand here; a pending Expect()
        // reports S0203, otherwise the rewriter reports S0207.
        return Make(NodeType::kEnd, t);
      case TokenType::kName: {
        auto n = Make(NodeType::kName, t);
        n->op = t.text;
        return n;
      }
      case TokenType::kVariable: {
        auto n = Make(NodeType::kVariable, t);
        n->op = t.text;
        return n;
      }
      case TokenType::kString: {
        auto n = Make(NodeType::kString, t);
        n->op = t.text;
        n->literal = Value(t.text);
        return n;
      }
      case TokenType::kNumber: {
        auto n = Make(NodeType::kNumber, t);
        n->literal = t.value;
        return n;
      }
      case TokenType::kValue: {
        auto n = Make(NodeType::kValue, t);
        n->literal = t.value;
        return n;
      }
      case TokenType::kRegex: {
        auto n = Make(NodeType::kRegex, t);
        n->regex_source = t.text;
        n->regex = CompileJsRegex(t.text, t.flags, t.position);
        return n;
      }
      case TokenType::kOperator: break;
    }
    const std::string& op = t.text;
    if (op == "and" || op == "or" || op == "in") {
      auto n = Make(NodeType::kName, t);  // keywords double as field names
      n->op = op;
      return n;
    }
    if (op == "-") {
      auto n = Make(NodeType::kUnary, t);
      n->op = "-";
      n->lhs = Expression(70);
      return n;
    }
    if (op == "*") return Make(NodeType::kWildcard, t);
    if (op == "**") return Make(NodeType::kDescendant, t);
    if (op == "%") return Make(NodeType::kParent, t);
    if (op == "(") {
      auto n = Make(NodeType::kBlock, t);
      while (!Is(")")) {
        n->items.push_back(Expression(0));
        if (!Is(";")) break;
        Expect(";");
      }
      Expect(")", true);
      return n;
    }
    if (op == "[") {
      auto n = Make(NodeType::kUnary, t);
      n->op = "[";
      if (!Is("]")) {
        for (;;) {
          NodePtr item = Expression(0);
          if (Is("..")) {
            auto range = MakeAt(NodeType::kBinary, tok_.position);
            range->op = "..";
            Advance();
            range->lhs = std::move(item);
            range->rhs = Expression(0);
            item = std::move(range);
          }
          n->items.push_back(std::move(item));
          if (!Is(",")) break;
          Expect(",");
        }
      }
      Expect("]", true);
      return n;
    }
    if (op == "{") {
      auto n = Make(NodeType::kUnary, t);
      n->op = "{";
      ParseObjectPairs(n->pairs);
      return n;
    }
    if (op == "|") {
      auto n = Make(NodeType::kTransform, t);
      n->pattern = Expression(0);
      Expect("|");
      n->update = Expression(0);
      if (Is(",")) {
        Expect(",");
        n->remove = Expression(0);
      }
      Expect("|");
      return n;
    }
    if (op == "?") {
      // only meaningful as a partial-application placeholder inside a call
      auto n = Make(NodeType::kOperator, t);
      n->op = "?";
      return n;
    }
    JsonataError e("S0211", t.position);
    e.token = op;
    throw e;
  }

  void ParseObjectPairs(std::vector<std::pair<NodePtr, NodePtr>>& pairs) {
    if (!Is("}")) {
      for (;;) {
        NodePtr k = Expression(0);
        Expect(":");
        NodePtr v = Expression(0);
        pairs.emplace_back(std::move(k), std::move(v));
        if (!Is(",")) break;
        Expect(",");
      }
    }
    Expect("}", true);
  }

  NodePtr Led(const Token& t, NodePtr left) {
    const std::string& op = t.text;
    int bp = BindingPower(t);
    if (op == "(") return ParseCall(t, std::move(left));
    if (op == "[") {
      if (Is("]")) {
        // empty predicate: keep singleton arrays
        Node* step = left.get();
        while (step->type == NodeType::kBinary && step->op == "[") step = step->lhs.get();
        step->keep_array = true;
        Expect("]");
        return left;
      }
      auto n = Make(NodeType::kBinary, t);
      n->op = "[";
      n->lhs = std::move(left);
      n->rhs = Expression(0);
      Expect("]", true);
      return n;
    }
    if (op == "^") {
      Expect("(");
      auto n = Make(NodeType::kBinary, t);
      n->op = "^";
      n->lhs = std::move(left);
      for (;;) {
        SortTerm term;
        if (Is("<")) {
          Advance();
        } else if (Is(">")) {
          term.descending = true;
          Advance();
        }
        term.expr = Expression(0);
        n->raw_terms.push_back(std::move(term));
        if (!Is(",")) break;
        Expect(",");
      }
      Expect(")");
      return n;
    }
    if (op == "{") {
      auto n = Make(NodeType::kBinary, t);
      n->op = "{";
      n->lhs = std::move(left);
      ParseObjectPairs(n->pairs);
      return n;
    }
    if (op == ":=") {
      if (left->type != NodeType::kVariable) {
        JsonataError e("S0212", left->position);
        e.token = left->op;
        throw e;
      }
      auto n = Make(NodeType::kBinary, t);
      n->op = ":=";
      n->lhs = std::move(left);
      n->rhs = Expression(bp - 1);  // right associative
      return n;
    }
    if (op == "@" || op == "#") {
      auto n = Make(NodeType::kBinary, t);
      n->op = op;
      n->lhs = std::move(left);
      n->rhs = Expression(bp);
      if (n->rhs->type != NodeType::kVariable) {
        JsonataError e("S0214", n->rhs->position);
        e.token = op;
        throw e;
      }
      return n;
    }
    if (op == "?") {
      auto n = Make(NodeType::kCondition, t);
      n->condition = std::move(left);
      n->then = Expression(0);
      if (Is(":")) {
        Expect(":");
        n->otherwise = Expression(0);
      }
      return n;
    }
    if (op == "?:" || op == "??") {
      auto n = Make(op == "?:" ? NodeType::kElvis : NodeType::kCoalesce, t);
      n->lhs = std::move(left);
      n->rhs = Expression(0);
      return n;
    }
    if (bp == 0) {
      JsonataError e("S0201", t.position);
      e.token = op;
      throw e;
    }
    auto n = Make(NodeType::kBinary, t);
    n->op = op;
    n->lhs = std::move(left);
    n->rhs = Expression(bp);
    return n;
  }

  NodePtr ParseCall(const Token& t, NodePtr left) {
    auto n = Make(NodeType::kFunction, t);
    n->procedure = std::move(left);
    if (!Is(")")) {
      for (;;) {
        if (Is("?")) {
          n->type = NodeType::kPartial;
          auto ph = Make(NodeType::kOperator, tok_);
          ph->op = "?";
          n->items.push_back(std::move(ph));
          Advance();
        } else {
          n->items.push_back(Expression(0));
        }
        if (!Is(",")) break;
        Expect(",");
      }
    }
    Expect(")", true);
    Node* proc = n->procedure.get();
    if (proc->type == NodeType::kName && (proc->op == "function" || proc->op == "\xCE\xBB")) {
      auto lambda = Make(NodeType::kLambda, t);
      for (size_t i = 0; i < n->items.size(); ++i) {
        const Node* arg = n->items[i].get();
        if (arg->type != NodeType::kVariable) {
          JsonataError e("S0208", arg->position);
          e.token = arg->op;
          e.value = Value(static_cast<int>(i + 1));
          throw e;
        }
        lambda->params.push_back(arg->op);
      }
      if (Is("<")) {
        int sig_pos = tok_.position;
        std::string sig = lexer_.ReadSignature();
        try {
          lambda->signature = std::make_shared<Signature>(Signature::Parse(sig));
        } catch (JsonataError& e) {
          e.position = sig_pos + (e.position >= 0 ? e.position : 0);
          throw;
        }
        Advance();
      }
      Expect("{");
      lambda->body = Expression(0);
      Expect("}");
      return lambda;
    }
    return n;
  }

  std::string_view src_;
  Lexer lexer_;
  Token tok_;
  int depth_ = 0;
  int nodes_ = 0;
};

}  // namespace

namespace {

// Whether evaluating `n` reads the input document; `at_input`: `n` is
// evaluated with the expression's input as its context (not a later path
// step, a filter or a sort term, which see the values before them).
// Lambda bodies count as evaluated at the input (they may be).
bool ReadsInput(Node& n, bool at_input) {
  switch (n.type) {
    case NodeType::kName:
    case NodeType::kWildcard:
    case NodeType::kDescendant:
    case NodeType::kParent:
      if (at_input) return true;
      break;
    case NodeType::kVariable:
      if (n.op == "$" || (n.op.empty() && at_input)) return true;
      break;
    default: break;
  }
  bool reads = false;
  auto visit = [&](NodePtr& child, bool child_at_input) {
    if (!reads && child) reads = ReadsInput(*child, child_at_input);
  };
  const bool path = n.type == NodeType::kPath;
  for (size_t i = 0; i < n.items.size(); ++i) visit(n.items[i], at_input && (!path || i == 0));
  visit(n.lhs, at_input);
  visit(n.rhs, at_input);
  visit(n.condition, at_input);
  visit(n.then, at_input);
  visit(n.otherwise, at_input);
  visit(n.procedure, at_input);
  visit(n.body, true);
  visit(n.pattern, at_input);
  visit(n.update, at_input);
  visit(n.remove, at_input);
  for (auto& pr : n.pairs) {
    visit(pr.first, at_input);
    visit(pr.second, at_input);
  }
  for (auto& st : n.stages) visit(st.expr, false);
  for (auto& st : n.predicates) visit(st.expr, false);
  for (auto& t : n.terms) visit(t.expr, false);
  if (n.group) {
    for (auto& pr : n.group->pairs) {
      visit(pr.first, false);
      visit(pr.second, false);
    }
  }
  return reads;
}

}  // namespace

RewrittenTree ParseExpression(std::string_view source) {
  // The parser bounds the tree's height (the passes after it recurse) and
  // its size.
  // Text that is not UTF-8 would reach results (and JSON) as raw bytes.
  for (size_t i = 0; i < source.size();) {
    const size_t n = ValidUtf8SequenceLength(source, i);
    if (n == 0) {
      JsonataError e("S0107", static_cast<int>(i));
      e.value = Value(static_cast<int>(static_cast<unsigned char>(source[i])));
      throw e;
    }
    i += n;
  }
  Parser parser(source);
  NodePtr raw = parser.Parse();
  RewrittenTree tree = Rewrite(std::move(raw));
  tree.parsed_nodes = parser.nodes();
  tree.double_equals = parser.double_equals();
  if (tree.root) tree.reads_input = ReadsInput(*tree.root, true);
  return tree;
}

}  // namespace weft::expr
