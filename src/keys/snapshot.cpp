#include "keys/snapshot.hpp"

#include <cstring>

#include <openssl/crypto.h>

namespace sluice::keys {
namespace {

std::uint64_t bucket_of(const SecretHash& h) {
  std::uint64_t v = 0;
  std::memcpy(&v, h.data(), sizeof v);
  return v;
}

}  // namespace

Snapshot::Snapshot(bool configured, std::vector<Store::ActiveKey> active_keys, std::vector<ProjectRecord> projects)
    : keys_configured(configured) {
  keys_.reserve(active_keys.size());
  for (auto& k : active_keys) {
    if (k.record.revoked_ms) continue;
    keys_.emplace(bucket_of(k.hash), std::move(k));
  }
  projects_.reserve(projects.size());
  for (auto& p : projects) {
    std::string name = p.name;
    projects_.insert_or_assign(std::move(name), std::move(p));
  }
}

const KeyRecord* Snapshot::find(std::string_view secret) const {
  const SecretHash h = hash_secret(secret);
  auto [it, end] = keys_.equal_range(bucket_of(h));
  const KeyRecord* found = nullptr;
  for (; it != end; ++it)
    if (CRYPTO_memcmp(it->second.hash.data(), h.data(), h.size()) == 0) found = &it->second.record;
  return found;
}

const ProjectRecord* Snapshot::project(const std::string& name) const {
  auto it = projects_.find(name);
  return it == projects_.end() ? nullptr : &it->second;
}

std::shared_ptr<const Snapshot> load_snapshot(const Store& store) {
  auto c = store.read_contents();
  return std::make_shared<const Snapshot>(c.keys_configured, std::move(c.active_keys), std::move(c.projects));
}

}  // namespace sluice::keys
