#include "backend.h"

namespace weft::knowledge::internal {

Result<std::unique_ptr<Backend>> OpenPostgresBackend(const std::string&, const std::string&, const Clock*) {
  return UnimplementedError("knowledge on PostgreSQL: not built yet");
}

}  // namespace weft::knowledge::internal
