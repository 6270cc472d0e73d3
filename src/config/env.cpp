#include <cstdlib>

#include "config/config.hpp"

namespace sluice::config {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::string interpolate_env(const std::string& text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      auto close = text.find('}', i + 2);
      if (close == std::string::npos) throw ConfigError("unterminated ${ in configuration");
      std::string expr = text.substr(i + 2, close - i - 2);
      std::string name = expr, fallback, error_message;
      enum { Plain, Default, Required } mode = Plain;
      if (auto p = expr.find(":-"); p != std::string::npos) {
        name = expr.substr(0, p);
        fallback = expr.substr(p + 2);
        mode = Default;
      } else if (auto q = expr.find(":?"); q != std::string::npos) {
        name = expr.substr(0, q);
        error_message = expr.substr(q + 2);
        mode = Required;
      }
      auto value = env(name);
      bool empty = !value || value->empty();
      if (mode == Default && empty) {
        out += fallback;
      } else if (mode == Required && empty) {
        throw ConfigError("environment variable " + name + " is required" +
                          (error_message.empty() ? "" : ": " + error_message));
      } else if (value) {
        out += *value;
      }
      i = close + 1;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

void apply_env_overrides(Config& cfg, const EnvLookup& env) {
  auto set = [&](const char* name) -> std::optional<std::string> {
    auto v = env(name);
    if (v && !v->empty()) return v;
    return std::nullopt;
  };
  if (auto v = set("SLUICE_LISTEN")) apply_listen(cfg, *v);
  if (auto v = set("SLUICE_UPSTREAM")) apply_upstream(cfg, *v);
  if (auto v = set("SLUICE_THREADS")) {
    try {
      cfg.server.threads = static_cast<unsigned>(std::stoul(*v));
    } catch (const std::exception&) {
      throw ConfigError("SLUICE_THREADS must be a number");
    }
  }
  if (auto v = env("SLUICE_ACCESS_LOG")) cfg.access_log = *v;
  if (auto v = set("SLUICE_DATA_DIR")) cfg.data_dir = *v;
  if (auto v = set("SLUICE_ADMIN_KEY")) cfg.admin.key = *v;
  auto& p = cfg.providers.front();
  if (auto v = set("SLUICE_CA_FILE")) p.ca_file = *v;
  if (p.kind == ProviderKind::Anthropic && p.api_key.empty()) {
    if (auto v = set("ANTHROPIC_API_KEY")) {
      p.api_key = *v;
    } else if (auto w = set("CLAUDE_API_KEY")) {
      p.api_key = *w;
    }
  }
}

}  // namespace sluice::config
