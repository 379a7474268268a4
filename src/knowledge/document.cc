#include "weft/knowledge/document.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>

#include "weft/core/encoding.h"
#include "weft/core/utf8.h"
#include "weft/files/files.h"

namespace weft::knowledge {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The line of `text` that starts at `pos` (without its \n or \r\n);
// moves `pos` past it.
std::string_view NextLine(std::string_view text, size_t& pos) {
  size_t nl = text.find('\n', pos);
  if (nl == std::string_view::npos) nl = text.size();
  std::string_view line = text.substr(pos, nl - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos = nl + 1;
  return line;
}

// The longest prefix of `s` of at most `n` bytes that ends on a code point.
std::string_view Utf8Prefix(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  size_t end = n;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::string Extension(std::string_view id) {
  const size_t slash = id.find_last_of('/');
  const std::string_view name = slash == std::string_view::npos ? id : id.substr(slash + 1);
  const size_t dot = name.find_last_of('.');
  return dot == std::string_view::npos ? "" : AsciiLower(name.substr(dot + 1));
}

// "billing/how-to_download.md" -> "how to download"
std::string TitleFromName(std::string_view id) {
  const size_t slash = id.find_last_of('/');
  std::string_view name = slash == std::string_view::npos ? id : id.substr(slash + 1);
  if (const size_t dot = name.find_last_of('.'); dot != std::string_view::npos && dot > 0) name = name.substr(0, dot);
  std::string out(name);
  std::replace(out.begin(), out.end(), '-', ' ');
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

// ---- HTML ----

const std::map<std::string, std::string, std::less<>>& NamedEntities() {
  static const auto* entities = new std::map<std::string, std::string, std::less<>>{
      {"amp", "&"},         {"lt", "<"},         {"gt", ">"},          {"quot", "\""},       {"apos", "'"},
      {"nbsp", " "},        {"eacute", "é"},     {"egrave", "è"},      {"ecirc", "ê"},       {"euml", "ë"},
      {"agrave", "à"},      {"acirc", "â"},      {"ccedil", "ç"},      {"icirc", "î"},       {"iuml", "ï"},
      {"ocirc", "ô"},       {"ouml", "ö"},       {"ugrave", "ù"},      {"ucirc", "û"},       {"uuml", "ü"},
      {"auml", "ä"},        {"szlig", "ß"},      {"ntilde", "ñ"},      {"aacute", "á"},      {"iacute", "í"},
      {"oacute", "ó"},      {"uacute", "ú"},     {"Eacute", "É"},      {"Agrave", "À"},      {"laquo", "«"},
      {"raquo", "»"},       {"lsquo", "\u2018"}, {"rsquo", "\u2019"},  {"ldquo", "\u201C"},  {"rdquo", "\u201D"},
      {"hellip", "\u2026"}, {"mdash", "\u2014"}, {"ndash", "\u2013"},  {"copy", "©"},        {"reg", "®"},
      {"rarr", "\u2192"},   {"larr", "\u2190"},  {"rsaquo", "\u203A"}, {"lsaquo", "\u2039"}, {"bull", "\u2022"},
      {"trade", "\u2122"},  {"euro", "€"},       {"pound", "£"},       {"middot", "·"},      {"times", "×"},
      {"deg", "°"}};
  return *entities;
}

// Decodes the entity at s[i] == '&' into `out`; returns the bytes consumed
// (1 when it is no entity: the '&' stays).
size_t DecodeEntity(std::string_view s, size_t i, std::string& out) {
  const size_t end = s.find(';', i);
  if (end == std::string_view::npos || end - i > 12) {
    out += '&';
    return 1;
  }
  const std::string_view name = s.substr(i + 1, end - i - 1);
  if (!name.empty() && name[0] == '#') {
    uint32_t cp = 0;
    const bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    const std::string_view digits = name.substr(hex ? 2 : 1);
    bool ok = !digits.empty();
    for (char c : digits) {
      const int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                    : hex && std::isxdigit(static_cast<unsigned char>(c))
                        ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                        : -1;
      if (d < 0 || cp > 0x10FFFF) {
        ok = false;
        break;
      }
      cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
    }
    if (!ok || cp == 0 || cp > 0x10FFFF) {
      out += '&';
      return 1;
    }
    AppendUtf8(out, cp == 0xA0 ? ' ' : cp);
    return end - i + 1;
  }
  const auto& named = NamedEntities();
  if (auto it = named.find(name); it != named.end()) {
    out += it->second;
    return end - i + 1;
  }
  out += '&';
  return 1;
}

bool IsOneOf(std::string_view tag, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), tag) != names.end();
}

}  // namespace

std::string HtmlToText(std::string_view html, std::string* title) {
  std::string out;
  out.reserve(html.size() / 2);
  std::string skip;  // the element whose content is dropped ("" = none)
  bool in_title = false;
  int pre = 0;
  std::string title_text;
  auto space = [&](std::string& to) {
    if (!to.empty() && to.back() != ' ' && to.back() != '\n') to += ' ';
  };
  auto breaks = [&](std::string_view b) {
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += b;
  };
  size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      if (html.compare(i, 4, "<!--") == 0) {
        const size_t end = html.find("-->", i + 4);
        i = end == std::string_view::npos ? html.size() : end + 3;
        continue;
      }
      size_t j = i + 1;
      const bool closing = j < html.size() && html[j] == '/';
      if (closing) ++j;
      size_t name_end = j;
      while (name_end < html.size() && std::isalnum(static_cast<unsigned char>(html[name_end]))) ++name_end;
      if (name_end == j && !(j < html.size() && (html[j] == '!' || html[j] == '?'))) {
        // A '<' that starts no tag is text.
        if (skip.empty()) (in_title ? title_text : out) += '<';
        ++i;
        continue;
      }
      // The tag ends at the first '>' outside a quoted attribute value.
      size_t k = name_end;
      char quote = 0;
      while (k < html.size() && (quote != 0 || html[k] != '>')) {
        if (quote != 0 && html[k] == quote) {
          quote = 0;
        } else if (quote == 0 && (html[k] == '"' || html[k] == '\'')) {
          quote = html[k];
        }
        ++k;
      }
      const std::string tag = AsciiLower(html.substr(j, name_end - j));
      i = k < html.size() ? k + 1 : html.size();
      if (!skip.empty()) {
        if (closing && tag == skip) skip.clear();
        continue;
      }
      if (tag.empty()) continue;  // <!DOCTYPE ...>, <?xml ...?>
      if (!closing && IsOneOf(tag, {"script", "style", "noscript", "template", "svg", "iframe", "nav", "object"})) {
        skip = tag;
        continue;
      }
      if (tag == "title") {
        in_title = !closing;
        continue;
      }
      if (tag == "pre") pre = std::max(0, pre + (closing ? -1 : 1));
      if (tag.size() == 2 && tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6') {
        breaks("\n\n");
        if (!closing) out.append(static_cast<size_t>(tag[1] - '0'), '#').append(" ");
        continue;
      }
      if (tag == "br") {
        breaks("\n");
      } else if (tag == "li") {
        if (!closing) breaks("\n- ");
      } else if (IsOneOf(tag, {"p",        "div",     "section", "article", "main",   "header",     "footer",
                               "aside",    "ul",      "ol",      "table",   "tr",     "blockquote", "pre",
                               "hr",       "dl",      "dt",      "dd",      "figure", "figcaption", "form",
                               "fieldset", "details", "summary", "body"})) {
        breaks("\n\n");
      } else if (IsOneOf(tag, {"td", "th"})) {
        space(out);
      }
      continue;
    }
    if (!skip.empty()) {
      ++i;
      continue;
    }
    std::string& to = in_title ? title_text : out;
    if (c == '&') {
      i += DecodeEntity(html, i, to);
    } else if (std::isspace(static_cast<unsigned char>(c)) && pre == 0) {
      space(to);
      ++i;
    } else {
      to += c;
      ++i;
    }
  }
  if (title != nullptr) *title = std::string(Trim(title_text));
  // Tidy: no spaces at line ends or starts, at most one blank line.
  std::string tidy;
  tidy.reserve(out.size());
  int newlines = 0;
  size_t pos = 0;
  while (pos <= out.size()) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    std::string_view line = Trim(std::string_view(out).substr(pos, nl - pos));
    if (line.empty() || line == "-" || line == "#") {
      ++newlines;
    } else {
      if (!tidy.empty()) tidy += newlines > 0 ? "\n\n" : "\n";
      tidy += line;
      newlines = 0;
    }
    pos = nl + 1;
  }
  return tidy;
}

// ---- language ----

namespace {

struct Language {
  const char* code;
  std::vector<std::string_view> words;
};

// Words common in each language; a word listed for two languages counts
// for neither.
const std::map<std::string, std::string, std::less<>>& LanguageWords() {
  static const auto* words = [] {
    const std::vector<Language> languages = {
        {"en", {"the",  "and", "is", "are", "you", "your", "to",   "of",   "in",   "for",  "with", "this",
                "that", "it",  "on", "be",  "can", "how",  "what", "have", "will", "from", "not",  "or"}},
        {"fr", {"le",  "la",  "les", "des",  "est", "et", "vous", "votre", "pour", "dans", "une",  "sur",
                "pas", "que", "qui", "avec", "du",  "au", "nous", "ce",    "sont", "être", "peut", "vos"}},
        {"es", {"el",  "los",  "las",  "del", "por",  "para",  "una",   "con",   "es", "su",
                "sus", "como", "pero", "muy", "está", "tiene", "puede", "usted", "y",  "que"}},
        {"de", {"der", "die", "das",  "und", "ist", "nicht", "sie", "ich",    "mit",    "auf",
                "für", "ein", "eine", "den", "dem", "zu",    "wie", "können", "werden", "oder"}},
        {"it",
         {"il", "lo", "gli", "della", "di", "che", "è", "per", "non", "sono", "come", "questo", "nel", "alla", "anche",
          "può"}},
        {"pt",
         {"o", "os", "da", "do", "dos", "das", "não", "uma", "com", "você", "seu", "sua", "em", "é", "pode", "mais"}},
        {"nl",
         {"het", "een", "en", "van", "ik", "niet", "dat", "zijn", "met", "voor", "op", "je", "wordt", "kunt", "uw"}},
    };
    std::map<std::string, std::set<std::string>, std::less<>> seen;
    for (const Language& l : languages)
      for (std::string_view w : l.words) seen[std::string(w)].insert(l.code);
    auto* out = new std::map<std::string, std::string, std::less<>>();
    for (const auto& [w, codes] : seen)
      if (codes.size() == 1) (*out)[w] = *codes.begin();
    return out;
  }();
  return *words;
}

// Calls fn(word) for each word of `text` (letters and digits; ASCII
// lower-cased), up to `limit` words.
template <typename Fn>
void ForEachWord(std::string_view text, size_t limit, Fn fn) {
  std::string word;
  size_t count = 0;
  for (size_t i = 0; i <= text.size() && count < limit; ++i) {
    const unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
    if (c >= 0x80 || std::isalnum(c)) {
      word += static_cast<char>(std::tolower(c));
    } else if (!word.empty()) {
      fn(word);
      word.clear();
      ++count;
    }
  }
}

}  // namespace

std::string GuessLanguage(std::string_view text) {
  const auto& words = LanguageWords();
  std::map<std::string, int> counts;
  ForEachWord(text, 5000, [&](const std::string& w) {
    if (auto it = words.find(w); it != words.end()) ++counts[it->second];
  });
  std::string best;
  int first = 0;
  int second = 0;
  for (const auto& [code, n] : counts) {
    if (n > first) {
      second = first;
      first = n;
      best = code;
    } else if (n > second) {
      second = n;
    }
  }
  return first >= 3 && first > second * 3 / 2 ? best : "";
}

// ---- reading ----

namespace {

// A tiny reader of Markdown front matter: `key: value` lines, lists as
// `[a, b]`, `a, b` or `- a` lines. Returns the text after it.
std::string_view FrontMatter(std::string_view text, std::map<std::string, std::vector<std::string>>& fields) {
  if (text.substr(0, 4) != "---\n" && text.substr(0, 5) != "---\r\n") return text;
  size_t pos = text.find('\n') + 1;
  std::string key;
  while (pos < text.size()) {
    const std::string_view line = NextLine(text, pos);
    if (line == "---" || line == "...") return text.substr(std::min(pos, text.size()));
    std::string_view t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    auto unquote = [](std::string_view v) {
      v = Trim(v);
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        v = v.substr(1, v.size() - 2);
      return std::string(v);
    };
    if (t.substr(0, 2) == "- " && !key.empty()) {
      fields[key].push_back(unquote(t.substr(2)));
      continue;
    }
    const size_t colon = t.find(':');
    if (colon == std::string_view::npos) continue;
    key = AsciiLower(Trim(t.substr(0, colon)));
    std::string_view value = Trim(t.substr(colon + 1));
    std::vector<std::string>& out = fields[key];
    if (!value.empty() && value.front() == '[' && value.back() == ']') value = value.substr(1, value.size() - 2);
    if (key == "tags" || key == "keywords") {
      size_t start = 0;
      while (start <= value.size()) {
        size_t comma = value.find(',', start);
        if (comma == std::string_view::npos) comma = value.size();
        if (std::string item = unquote(value.substr(start, comma - start)); !item.empty()) out.push_back(item);
        start = comma + 1;
      }
    } else if (!value.empty()) {
      out.push_back(unquote(value));
    }
  }
  return text;  // no closing line: not front matter
}

// The text of the first `# ` heading, "" when there is none.
std::string FirstHeading(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const std::string_view line = Trim(NextLine(text, pos));
    if (line.size() > 2 && line[0] == '#') {
      size_t hashes = line.find_first_not_of('#');
      if (hashes != std::string_view::npos && hashes <= 6 && line[hashes] == ' ')
        return std::string(Trim(line.substr(hashes)));
    }
  }
  return "";
}

std::string FirstLine(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (std::string_view line = Trim(NextLine(text, pos)); !line.empty())
      return line.size() <= 120 ? std::string(line) : "";
  }
  return "";
}

}  // namespace

Result<Document> ReadDocument(std::string_view id, std::string_view bytes, const DocumentLimits& limits) {
  const std::string where = "document '" + std::string(id) + "'";
  if (static_cast<int64_t>(bytes.size()) > limits.max_bytes) {
    return InvalidArgumentError(where + ": " + std::to_string(bytes.size()) + " bytes, more than the limit of " +
                                std::to_string(limits.max_bytes));
  }
  Document doc;
  doc.id = std::string(id);
  doc.source = doc.id;
  const std::string ext = Extension(id);
  if (ext == "pdf" || bytes.substr(0, 5) == "%PDF-") {
    files::TextLimits text_limits;
    text_limits.max_chars = limits.max_chars;
    text_limits.max_pages = limits.max_pdf_pages;
    Result<files::ExtractedText> text = files::ExtractText(bytes, text_limits);
    if (!text.ok()) return text.status().WithContext(where);
    doc.text = std::move(text->text);
    doc.title = FirstLine(doc.text);
  } else {
    if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);  // a byte order mark
    if (bytes.find('\0') != std::string_view::npos || !IsValidUtf8(bytes)) {
      return InvalidArgumentError(where + ": not UTF-8 text (" + files::SniffMediaType(bytes) + ")");
    }
    const bool html = ext == "html" || ext == "htm" || ext == "xhtml" ||
                      (ext != "md" && ext != "markdown" && ext != "txt" &&
                       files::SniffMediaType(bytes.substr(0, 4096)) == "text/html");
    if (html) {
      std::string title;
      doc.text = HtmlToText(bytes, &title);
      doc.title = title.empty() ? FirstHeading(doc.text) : title;
    } else {
      std::map<std::string, std::vector<std::string>> fields;
      const std::string_view body = FrontMatter(bytes, fields);
      doc.text = std::string(body);
      // A key may have no value ("source:" over an empty list).
      auto one = [&](const char* key) {
        auto it = fields.find(key);
        return it != fields.end() && !it->second.empty() ? it->second.front() : std::string();
      };
      doc.title = one("title");
      if (std::string s = one("source"); !s.empty()) doc.source = s;
      if (std::string s = one("url"); !s.empty()) doc.source = s;
      doc.language = AsciiLower(one("language").empty() ? one("lang") : one("language"));
      for (const char* key : {"tags", "keywords"})
        for (const std::string& t : fields[key]) doc.tags.push_back(t);
      if (doc.title.empty()) doc.title = FirstHeading(doc.text);
    }
  }
  if (static_cast<int64_t>(doc.text.size()) > limits.max_chars)
    doc.text = std::string(Utf8Prefix(doc.text, static_cast<size_t>(limits.max_chars)));
  if (doc.title.empty()) doc.title = TitleFromName(id);
  return doc;
}

// ---- chunking ----

namespace {

struct Section {
  std::string heading;
  std::vector<std::string> paragraphs;
};

// Headings and paragraphs of Markdown-like text.
std::vector<Section> Sections(std::string_view text) {
  std::vector<Section> sections(1);
  std::vector<std::string> stack;  // heading text per level (1..6)
  std::string para;
  int para_lines = 0;
  bool fence = false;
  auto flush = [&] {
    if (std::string_view t = Trim(para); !t.empty()) sections.back().paragraphs.emplace_back(t);
    para.clear();
    para_lines = 0;
  };
  auto heading = [&](size_t level, std::string_view title) {
    flush();
    stack.resize(level - 1);
    stack.emplace_back(Trim(title));
    std::string path;
    for (const std::string& h : stack) {
      if (h.empty()) continue;
      path.append(path.empty() ? "" : " > ").append(h);
    }
    sections.push_back({path, {}});
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const std::string_view line = NextLine(text, pos);
    const std::string_view t = Trim(line);
    if (t.substr(0, 3) == "```" || t.substr(0, 3) == "~~~") {
      if (!fence) flush();
      fence = !fence;
      para.append(para.empty() ? "" : "\n").append(line);
      if (!fence) flush();
      continue;
    }
    if (fence) {
      para.append(para.empty() ? "" : "\n").append(line);
      continue;
    }
    if (t.empty()) {
      flush();
      continue;
    }
    if (t[0] == '#') {
      const size_t hashes = t.find_first_not_of('#');
      if (hashes != std::string_view::npos && hashes <= 6 && t[hashes] == ' ') {
        std::string_view title = t.substr(hashes);
        while (!title.empty() && (title.back() == '#' || title.back() == ' ')) title.remove_suffix(1);
        heading(hashes, title);
        continue;
      }
    }
    // Setext headings: a one-line paragraph underlined with = or -.
    if (para_lines == 1 && t.size() >= 3 &&
        (t.find_first_not_of('=') == std::string_view::npos || t.find_first_not_of('-') == std::string_view::npos)) {
      const std::string title = para;
      para.clear();
      para_lines = 0;
      heading(t[0] == '=' ? 1 : 2, title);
      continue;
    }
    // Lines of a paragraph are one text (Markdown's soft breaks), except
    // list items and hard breaks (two spaces or a backslash at the end).
    const bool item = t[0] == '-' || t[0] == '*' || t[0] == '+' || t[0] == '|' ||
                      (std::isdigit(static_cast<unsigned char>(t[0])) && t.find_first_not_of("0123456789") < t.size() &&
                       (t[t.find_first_not_of("0123456789")] == '.' || t[t.find_first_not_of("0123456789")] == ')'));
    const bool hard = para.size() >= 2 && (para.ends_with("  ") || para.back() == '\\');
    if (!para.empty()) {
      while (!para.empty() && (para.back() == ' ' || para.back() == '\\')) para.pop_back();
      para += item || hard ? "\n" : " ";
    }
    para.append(item ? t : Trim(line));
    ++para_lines;
  }
  flush();
  return sections;
}

// Where `s` may be cut before `limit` bytes: after a sentence's end, else
// after a space, else at a code point; never 0 for a non-empty `s`.
size_t CutPoint(std::string_view s, size_t limit) {
  if (s.size() <= limit) return s.size();
  const std::string_view head = Utf8Prefix(s, limit);
  for (size_t i = head.size(); i > head.size() / 3; --i) {
    const char c = head[i - 1];
    if ((c == '.' || c == '!' || c == '?' || c == ';' || c == '\n') && i < s.size() &&
        std::isspace(static_cast<unsigned char>(s[i])))
      return i;
  }
  if (const size_t space = head.find_last_of(" \n\t"); space != std::string_view::npos && space > 0) return space;
  return head.empty() ? ValidUtf8SequenceLength(s, 0) + (ValidUtf8SequenceLength(s, 0) == 0 ? 1 : 0) : head.size();
}

// The end of `s` to repeat at the start of the next chunk: at most `n`
// bytes, starting after a sentence's end, else at a word.
std::string_view Tail(std::string_view s, size_t n) {
  if (n == 0 || s.empty()) return {};
  if (s.size() <= n) return s;
  const size_t from = s.size() - n;
  for (size_t i = from; i + 1 < s.size(); ++i) {
    const char c = s[i];
    if ((c == '.' || c == '!' || c == '?' || c == '\n') && std::isspace(static_cast<unsigned char>(s[i + 1])))
      return Trim(s.substr(i + 1));
  }
  const size_t space = s.find(' ', from);
  return space == std::string_view::npos ? std::string_view() : Trim(s.substr(space + 1));
}

}  // namespace

std::vector<Chunk> ChunkText(std::string_view text, const ChunkOptions& options) {
  const size_t max = static_cast<size_t>(std::max(options.max_chars, 64));
  const size_t overlap = static_cast<size_t>(std::clamp(options.overlap_chars, 0, static_cast<int>(max / 2)));
  std::vector<Chunk> chunks;
  for (const Section& section : Sections(text)) {
    std::string current;
    bool fresh = true;  // `current` holds only the overlap, or nothing
    auto emit = [&] {
      if (!fresh && !Trim(current).empty() && static_cast<int>(chunks.size()) < options.max_chunks) {
        chunks.push_back({static_cast<int>(chunks.size()), section.heading, std::string(Trim(current))});
      }
      const std::string carry(Tail(current, overlap));
      current = carry;
      fresh = true;
    };
    for (const std::string& paragraph : section.paragraphs) {
      std::string_view rest = paragraph;
      while (!rest.empty()) {
        const size_t sep = current.empty() ? 0 : 2;
        if (current.size() + sep + rest.size() <= max) {
          current.append(sep ? "\n\n" : "").append(rest);
          fresh = false;
          rest = {};
          break;
        }
        // What does not fit: fill this chunk with the start of the
        // paragraph when the chunk holds little, else start a new chunk.
        if (!fresh && current.size() > max / 2) {
          emit();
          if (current.size() + 2 + std::min(rest.size(), max / 2) > max) current.clear();
          continue;
        }
        const size_t room = max - std::min(max, current.size() + sep);
        if (room < 32) {  // only overlap left in a chunk: start afresh
          if (fresh) {
            current.clear();
          } else {
            emit();
          }
          continue;
        }
        const size_t cut = CutPoint(rest, room);
        current.append(sep ? "\n\n" : "").append(Trim(rest.substr(0, cut)));
        fresh = false;
        rest = Trim(rest.substr(cut));
        if (!rest.empty()) emit();
      }
      if (static_cast<int>(chunks.size()) >= options.max_chunks) return chunks;
    }
    emit();
  }
  return chunks;
}

}  // namespace weft::knowledge
