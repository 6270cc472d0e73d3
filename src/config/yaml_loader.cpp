// YAML -> Config. Every mapping is read through Section, which remembers the keys it consumed,
// so an unknown (misspelt) key is reported with its full path instead of being ignored.
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"

namespace sluice::config {
namespace {

class Section {
 public:
  Section(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) throw ConfigError(path_ + ": expected a mapping");
  }
  ~Section() noexcept(false) {
    if (std::uncaught_exceptions() > 0 || !node_ || node_.IsNull()) return;
    for (const auto& kv : node_) {
      auto key = kv.first.as<std::string>();
      if (!used_.count(key)) throw ConfigError("unknown key '" + key + "' in " + path_);
    }
  }

  YAML::Node get(const std::string& key) {
    used_.insert(key);
    if (!node_ || node_.IsNull()) return YAML::Node{};
    return node_[key];
  }
  std::string child(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  template <class T>
  void read(const std::string& key, T& out) {
    auto n = get(key);
    if (!n || n.IsNull()) return;
    try {
      out = n.as<T>();
    } catch (const YAML::Exception&) {
      throw ConfigError(child(key) + ": invalid value '" + (n.IsScalar() ? n.Scalar() : "<non-scalar>") + "'");
    }
  }
  void read_ms(const std::string& key, milliseconds& out) {
    std::int64_t v = out.count();
    read(key, v);
    if (v < 0) throw ConfigError(child(key) + ": must not be negative");
    out = milliseconds(v);
  }

 private:
  YAML::Node node_;
  std::string path_;
  std::set<std::string> used_;
};

ProviderKind parse_kind(const std::string& s, const std::string& path) {
  if (s == "anthropic") return ProviderKind::Anthropic;
  if (s == "mock") return ProviderKind::Mock;
  throw ConfigError(path + ": unknown provider kind '" + s + "' (expected anthropic or mock)");
}

ProviderConfig parse_provider(const YAML::Node& node, const std::string& path) {
  ProviderConfig p;
  Section s(node, path);
  s.read("name", p.name);
  std::string kind = "anthropic";
  s.read("kind", kind);
  p.kind = parse_kind(kind, s.child("kind"));
  if (p.kind == ProviderKind::Mock) p.base_url.clear();
  s.read("base_url", p.base_url);
  s.read("api_key", p.api_key);
  s.read("ca_file", p.ca_file);
  {
    Section t(s.get("timeouts"), s.child("timeouts"));
    t.read_ms("connect_ms", p.timeouts.connect);
    t.read_ms("first_byte_ms", p.timeouts.first_byte);
    t.read_ms("idle_ms", p.timeouts.idle);
    t.read_ms("total_ms", p.timeouts.total);
  }
  {
    Section pool(s.get("pool"), s.child("pool"));
    pool.read("max_idle", p.pool_max_idle);
    pool.read_ms("idle_timeout_ms", p.pool_idle_timeout);
  }
  return p;
}

// ${VAR} is replaced in scalar values only, after parsing, so comments and keys are never
// touched and an interpolated value cannot change the document's structure.
void interpolate_scalars(YAML::Node node, const EnvLookup& env) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text.find("${") != std::string::npos) node = interpolate_env(text, env);
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) interpolate_scalars(node[i], env);
  } else if (node.IsMap()) {
    for (auto kv : node) interpolate_scalars(kv.second, env);
  }
}

}  // namespace

Config parse_config(const std::string& yaml_text, const EnvLookup& env) {
  Config cfg = default_config();
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("invalid YAML: ") + e.what());
  }
  interpolate_scalars(root, env);
  Section top(root, "");
  {
    Section srv(top.get("server"), "server");
    std::string listen;
    srv.read("listen", listen);
    if (!listen.empty()) apply_listen(cfg, listen);
    srv.read("threads", cfg.server.threads);
    srv.read("max_header_bytes", cfg.server.max_header_bytes);
    srv.read("max_body_bytes", cfg.server.max_body_bytes);
    srv.read_ms("header_timeout_ms", cfg.server.header_timeout);
    srv.read_ms("body_timeout_ms", cfg.server.body_timeout);
    srv.read_ms("idle_timeout_ms", cfg.server.idle_timeout);
    srv.read_ms("write_timeout_ms", cfg.server.write_timeout);
    srv.read_ms("drain_timeout_ms", cfg.server.drain_timeout);
  }
  top.read("access_log", cfg.access_log);
  top.read("data_dir", cfg.data_dir);
  if (auto providers = top.get("providers"); providers && !providers.IsNull()) {
    if (!providers.IsSequence() || providers.size() == 0) {
      throw ConfigError("providers: expected a non-empty list");
    }
    cfg.providers.clear();
    for (std::size_t i = 0; i < providers.size(); ++i) {
      cfg.providers.push_back(parse_provider(providers[i], "providers[" + std::to_string(i) + "]"));
    }
  }
  {
    Section m(top.get("mock"), "mock");
    m.read("tokens_per_second", cfg.mock.tokens_per_second);
  }
  validate(cfg);
  return cfg;
}

Config load_config_file(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return parse_config(ss.str(), env);
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

}  // namespace sluice::config
