// Text embeddings for knowledge bases, through an OpenAI-compatible
// `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, llama.cpp server, LM
// Studio, LiteLLM), named by a model alias of weft.yaml like any model:
//
//   models:
//     embed: { provider: openai, model: text-embedding-3-small }
//   knowledge:
//     help_center: { folder: knowledge/help, embedding: embed }
#pragma once

#include <memory>
#include <string_view>

#include "weft/ai/models.h"
#include "weft/http/client.h"
#include "weft/knowledge/knowledge.h"

namespace weft::ai {

// An embedder for `alias` (a provider `openai` alias; Anthropic has no
// embeddings API and the local model makes none: InvalidArgument). Its
// calls block the calling thread (never an engine thread: the knowledge
// index calls it from workers) with the alias's timeout and retries.
Result<std::shared_ptr<knowledge::Embedder>> NewEmbedder(const Models& models, std::string_view alias,
                                                         http::Client* http, const Clock* clock = nullptr);

}  // namespace weft::ai
