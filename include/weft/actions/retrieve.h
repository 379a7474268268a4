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

// `knowledge` may be null (no bases configured): the action then fails
// naming that, and validation refuses a literal base name.
Status RegisterRetrieveActions(engine::ActionRegistry& registry, std::shared_ptr<knowledge::Knowledge> knowledge);

}  // namespace weft::actions
