// Model aliases: workflows name a model by role (`fast`, `smart`, `local`)
// and the configuration maps each alias to a provider, a model and a price,
// so that simple steps use small models and no workflow hard-codes a vendor.
//
//   models:
//     fast:  { provider: openai, model: gpt-4o-mini, price: { input_per_1k: 0.00015, output_per_1k: 0.0006 } }
//     smart: { provider: anthropic, model: claude-sonnet-4-5, api_key_secret: ANTHROPIC_PROD }
//     home:  { provider: openai, base_url: "http://127.0.0.1:11434/v1", model: llama3.1, json_mode: object }
//
// Base URLs and keys default to OPENAI_BASE_URL / OPENAI_API_KEY and
// ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY, as the official SDKs read them.
// The alias `local` (and any alias configured with `provider: local`) needs
// no network: the local classifier, pattern extraction and template replies.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "weft/ai/provider.h"

namespace weft::ai {

struct ModelConfig {
  std::string alias;
  std::string provider;  // "openai", "anthropic", "local"
  std::string model;     // the provider's model id
  std::string base_url;
  std::string api_key;
  JsonMode json_mode = JsonMode::kSchema;
  double input_per_1k = 0;  // price in the configuration's currency
  double output_per_1k = 0;
  int64_t timeout_ms = 60'000;
  int max_retries = 3;

  double Cost(const Usage& u) const {
    return static_cast<double>(u.input_tokens) / 1000.0 * input_per_1k +
           static_cast<double>(u.output_tokens) / 1000.0 * output_per_1k;
  }
};

// How a provider client for `config` reaches its server.
ProviderOptions ProviderOptionsFor(const ModelConfig& config, http::Client* http, const Clock* clock);

// Environment lookup (injected in tests).
using Env = std::function<std::optional<std::string>(std::string_view name)>;
Env ProcessEnv();

class Models {
 public:
  // Reads the `models:` section (a map alias -> settings; undefined = none).
  // Errors name the alias and the key.
  // `secrets` resolves `api_key_secret: NAME` (the engine's secret source).
  static Result<std::shared_ptr<Models>> FromConfig(const Value& models, http::Client* http, const Env& env,
                                                    const Clock* clock = nullptr, const Env& secrets = nullptr);

  // Adds (or replaces) an alias served by a provider built elsewhere: a
  // custom provider written against provider.h, or an in-process fake.
  void Add(ModelConfig config, std::unique_ptr<Provider> provider);

  struct Route {
    const ModelConfig* config = nullptr;
    Provider* provider = nullptr;  // nullptr for the local provider
  };
  // NotFound naming the configured aliases when `alias` is unknown.
  Result<Route> Resolve(std::string_view alias) const;
  // The aliases weft.yaml configured (and Add()ed ones), without the
  // built-in `local`.
  std::vector<std::string> ConfiguredAliases() const;

 private:
  std::map<std::string, ModelConfig, std::less<>> configs_;
  std::map<std::string, std::unique_ptr<Provider>, std::less<>> providers_;  // by alias
};

}  // namespace weft::ai
