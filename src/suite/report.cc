// What `weft test` prints, and its JUnit form.
#include <map>
#include <sstream>

#include "weft/core/escape.h"
#include "weft/suite/suite.h"

namespace weft::suite {
namespace {

std::string Xml(std::string_view s) { return EscapeMarkup(s, true); }

std::string Describe(const Failure& f) {
  std::string out = f.what + ":";
  if (!f.expected.empty()) out += "\n    expected: " + f.expected;
  out += "\n    actual:   " + f.actual;
  return out;
}

}  // namespace

std::string TextReport(const std::vector<CaseResult>& results) {
  std::ostringstream out;
  std::string file;
  int failed = 0;
  for (const CaseResult& r : results) {
    if (r.file != file) {
      file = r.file;
      out << file << "\n";
    }
    out << (r.passed ? "  ok    " : "  FAIL  ") << r.name << "  (" << r.duration_ms << " ms)\n";
    if (!r.passed) ++failed;
    for (const Failure& f : r.failures) {
      std::string text = Describe(f);
      std::string indented;
      for (char c : text) {
        indented += c;
        if (c == '\n') indented += "      ";
      }
      out << "      " << indented << "\n";
    }
  }
  out << results.size() << (results.size() == 1 ? " case: " : " cases: ") << results.size() - failed << " passed, "
      << failed << " failed\n";
  return out.str();
}

std::string JUnitReport(const std::vector<CaseResult>& results) {
  std::map<std::string, std::vector<const CaseResult*>> by_file;
  std::vector<std::string> files;
  for (const CaseResult& r : results) {
    if (!by_file.count(r.file)) files.push_back(r.file);
    by_file[r.file].push_back(&r);
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  for (const std::string& f : files) {
    int failures = 0;
    int64_t ms = 0;
    for (const CaseResult* r : by_file[f]) {
      failures += r->passed ? 0 : 1;
      ms += r->duration_ms;
    }
    out << "  <testsuite name=\"" << Xml(f) << "\" tests=\"" << by_file[f].size() << "\" failures=\"" << failures
        << "\" time=\"" << static_cast<double>(ms) / 1000 << "\">\n";
    for (const CaseResult* r : by_file[f]) {
      out << "    <testcase classname=\"" << Xml(f) << "\" name=\"" << Xml(r->name) << "\" time=\""
          << static_cast<double>(r->duration_ms) / 1000 << "\"";
      if (r->passed) {
        out << "/>\n";
        continue;
      }
      out << ">\n      <failure message=\"" << Xml(r->failures.front().what) << "\">";
      for (const Failure& fl : r->failures) out << Xml(Describe(fl)) << "\n";
      out << "</failure>\n    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
  return out.str();
}

}  // namespace weft::suite
