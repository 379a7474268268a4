// The `retrieve` action (Hexabot's name `retrieve_content_rag` too): the
// passages of a knowledge base (knowledge/knowledge.h) that best answer a
// query, for an AI step to be grounded in and to cite.
//
//   find_articles:
//     kind: task
//     action: retrieve
//     inputs:   { query: "=$input.message" }
//     settings: { knowledge: help_center, top_k: 3, mode: hybrid,
//                 filter: { tags: [billing], language: en } }
//
//   result: { query, chunks: [{text, score, title, source, heading, document, chunk, language, tags}],
//             sources: [{n, title, source}], context: "[1] Title — Heading (source)\n<text>\n\n[2] ..." }
//
// `context` numbers the passages so that a generated answer can cite them
// ("[1]"); `sources` lists each document once, in that numbering. What was
// retrieved is the step's result, so the run's history shows it.
#pragma once

#include <memory>

#include "weft/core/status.h"
#include "weft/engine/action.h"
#include "weft/knowledge/knowledge.h"

namespace weft::actions {

//
// And `index_document`: an uploaded file (a form's or a chat's, a webhook's
// multipart part) added to a knowledge base, so that a workflow can grow
// one ("a new price list was uploaded: index it").
//
//   inputs:   { file: "=$input.document", id: "price-lists/2026.pdf", title: ..., tags: [...] }
//   settings: { knowledge: help_center }
//   result:   { id, title, source, language, tags, chunks, sha256 }

// `knowledge` may be null (no bases configured): the actions then fail
// naming that, and validation refuses a literal base name. `data_dir` is
// where uploads are kept ("" = none: index_document fails).
Status RegisterRetrieveActions(engine::ActionRegistry& registry, std::shared_ptr<knowledge::Knowledge> knowledge,
                               std::string data_dir = "");

}  // namespace weft::actions
