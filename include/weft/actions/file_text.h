// The `file_text` action: the text of an uploaded file, so that an AI step
// can read a document a user sent (a form's file field, a webhook's
// multipart upload).
//
//   inputs:  { file: "=$input.invoice", max_chars: 50000 }   (the upload's {id, ...} or its id)
//   result:  { text, type, pages, truncated, name }
//
// Text files as they are (UTF-8), PDF through poppler in a separate,
// limited process (a hostile PDF can only stop that process); other types
// fail with InvalidArgument naming the type.
#pragma once

#include <string>

#include "weft/core/status.h"
#include "weft/engine/action.h"

namespace weft::actions {

// `data_dir`: where the server keeps uploads ("" = none: the action fails).
Status RegisterFileTextAction(engine::ActionRegistry& registry, std::string data_dir);

}  // namespace weft::actions
