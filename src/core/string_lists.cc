// Lists of names as Values (grants, tags): kept apart from value.cc, whose
// node internals clang-analyzer would follow into false leak reports.
#include <string>
#include <vector>

#include "weft/core/value.h"

namespace weft {

Value StringArray(const std::vector<std::string>& items) {
  Value out = Value::MakeArray();
  for (const std::string& i : items) out.push_back(Value(i));
  return out;
}

std::vector<std::string> StringsOf(const Value& array) {
  std::vector<std::string> out;
  if (!array.is_array()) return out;
  for (const Value& v : array.as_array()) {
    if (v.is_string()) out.push_back(v.as_string());
  }
  return out;
}

}  // namespace weft
