#include "weft/ai/models.h"

#include <algorithm>
#include <cstdlib>

#include "weft/core/numeric_cast.h"

namespace weft::ai {

Env ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

namespace {

constexpr std::string_view kKeys[] = {"provider", "model",     "base_url",   "api_key_env", "api_key_secret",
                                      "price",    "json_mode", "timeout_ms", "max_retries"};

Status Bad(std::string_view alias, std::string_view message) {
  return InvalidArgumentError("models." + std::string(alias) + ": " + std::string(message));
}

// The official SDKs differ in whether a base URL carries the API version:
// Anthropic's take `https://api.anthropic.com`, OpenAI's
// `https://api.openai.com/v1`, and local servers are written either way. A
// URL that names only a server gets `/v1` (where both APIs live); one with a
// path is used as written (a proxy or deployment path).
std::string NormalizeBaseUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  const size_t scheme = url.find("://");
  const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) url += "/v1";
  return url;
}

Result<ModelConfig> ReadOne(std::string_view alias, const Value& v, const Env& env, const Env& secrets) {
  if (!v.is_object()) return Bad(alias, "expected a mapping with provider and model");
  for (const auto& m : v.members()) {
    bool known = false;
    for (std::string_view k : kKeys) known = known || m.key == k;
    if (!known) return Bad(alias, "unknown key '" + m.key + "'");
  }
  ModelConfig c;
  c.alias = std::string(alias);
  Value provider = v.get("provider");
  if (!provider.is_string()) return Bad(alias, "'provider' must be one of openai, anthropic, local");
  c.provider = provider.as_string();
  if (c.provider != "openai" && c.provider != "anthropic" && c.provider != "local") {
    return Bad(alias, "unknown provider '" + c.provider + "' (use openai, anthropic or local)");
  }
  if (Value m = v.get("model"); m.is_string()) {
    c.model = m.as_string();
  } else if (c.provider != "local") {
    return Bad(alias, "'model' (the provider's model id) is required");
  }
  const std::string prefix = c.provider == "anthropic" ? "ANTHROPIC" : "OPENAI";
  const std::string fallback_url =
      c.provider == "anthropic" ? "https://api.anthropic.com/v1" : "https://api.openai.com/v1";
  if (Value u = v.get("base_url"); u.is_string()) {
    c.base_url = NormalizeBaseUrl(u.as_string());
  } else {
    c.base_url = NormalizeBaseUrl(env(prefix + "_BASE_URL").value_or(fallback_url));
  }
  if (Value k = v.get("api_key_env"); k.is_string()) {
    // Named on purpose: unset is a mistake (it sent an empty key before).
    std::optional<std::string> key = env(k.as_string());
    if (!key) return Bad(alias, "api_key_env names " + k.as_string() + ", which is not set in the environment");
    c.api_key = *key;
  } else {
    c.api_key = env(prefix + "_API_KEY").value_or("");  // a local server may need none
  }
  if (Value secret = v.get("api_key_secret"); secret.is_string()) {
    std::optional<std::string> key = secrets ? secrets(secret.as_string()) : std::nullopt;
    if (!key) return Bad(alias, "secret '" + secret.as_string() + "' (api_key_secret) is not set");
    c.api_key = *key;
  }
  if (Value p = v.get("price"); p.is_defined()) {
    if (!p.is_object()) return Bad(alias, "'price' must be {input_per_1k, output_per_1k}");
    if (Value n = p.get("input_per_1k"); n.is_number()) c.input_per_1k = n.as_number();
    if (Value n = p.get("output_per_1k"); n.is_number()) c.output_per_1k = n.as_number();
    if (c.input_per_1k < 0 || c.output_per_1k < 0) return Bad(alias, "prices cannot be negative");
  }
  if (Value j = v.get("json_mode"); j.is_defined()) {
    if (j == Value("schema")) {
      c.json_mode = JsonMode::kSchema;
    } else if (j == Value("object")) {
      c.json_mode = JsonMode::kObject;
    } else if (j == Value("none")) {
      c.json_mode = JsonMode::kNone;
    } else {
      return Bad(alias, "'json_mode' must be schema, object or none");
    }
  }
  if (Value t = v.get("timeout_ms"); t.is_number() && t.as_number() > 0) {
    c.timeout_ms = std::min<int64_t>(SaturatingInt64(t.as_number()), 86'400'000);  // a day at most
  }
  if (Value r = v.get("max_retries"); r.is_number() && r.as_number() >= 0) {
    c.max_retries = SaturatingInt(r.as_number());
  }
  return c;
}

}  // namespace

ProviderOptions ProviderOptionsFor(const ModelConfig& config, http::Client* http, const Clock* clock) {
  ProviderOptions po;
  po.base_url = config.base_url;
  po.api_key = config.api_key;
  po.http = http;
  po.clock = clock;
  po.max_retries = config.max_retries;
  return po;
}

Result<std::shared_ptr<Models>> Models::FromConfig(const Value& models, http::Client* http, const Env& env,
                                                   const Clock* clock, const Env& secrets) {
  auto out = std::make_shared<Models>();
  if (models.is_defined() && !models.is_object()) return InvalidArgumentError("models: expected a mapping of aliases");
  if (models.is_object()) {
    for (const auto& m : models.members()) {
      WEFT_ASSIGN_OR_RETURN(ModelConfig c, ReadOne(m.key, m.value, env, secrets));
      out->configs_[m.key] = std::move(c);
    }
  }
  if (out->configs_.count("local") == 0) {
    ModelConfig local;
    local.alias = "local";
    local.provider = "local";
    out->configs_["local"] = local;
  }
  for (const auto& [alias, c] : out->configs_) {
    if (c.provider == "local") continue;
    if (http == nullptr) return InvalidArgumentError("models." + alias + ": no HTTP client to reach the provider");
    const ProviderOptions po = ProviderOptionsFor(c, http, clock);
    out->providers_[alias] = c.provider == "anthropic" ? NewAnthropicProvider(po) : NewOpenAiProvider(po);
  }
  return out;
}

void Models::Add(ModelConfig config, std::unique_ptr<Provider> provider) {
  const std::string alias = config.alias;
  configs_[alias] = std::move(config);
  providers_[alias] = std::move(provider);
}

std::vector<std::string> Models::ConfiguredAliases() const {
  std::vector<std::string> out;
  for (const auto& [alias, c] : configs_)
    if (alias != "local" || c.provider != "local") out.push_back(alias);
  return out;
}

Result<Models::Route> Models::Resolve(std::string_view alias) const {
  auto it = configs_.find(alias);
  if (it == configs_.end()) {
    std::string known;
    for (const auto& [a, c] : configs_) known += (known.empty() ? "" : ", ") + a;
    return NotFoundError("model '" + std::string(alias) + "' is not configured (configured: " + known + ")");
  }
  Route r;
  r.config = &it->second;
  if (auto p = providers_.find(alias); p != providers_.end()) r.provider = p->second.get();
  return r;
}

}  // namespace weft::ai
