#pragma once
// What the gateway's auth stage needs from the key store, immutable once built: the active
// keys by secret hash and the projects by name. find() hashes the presented secret and
// compares full hashes in constant time, so its timing does not depend on how close a guess
// is to a real secret.
// Thread-safety: immutable, so any number of threads may read one Snapshot. Pointers it
// returns live as long as the Snapshot (hold the shared_ptr for the whole request).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keys/key_store.hpp"
#include "keys/records.hpp"

namespace sluice::keys {

struct Snapshot {
  Snapshot() = default;  // no keys configured: the gateway runs in passthrough
  // Revoked records among `active_keys` are dropped. Usable without SQLite (stage tests).
  Snapshot(bool keys_configured, std::vector<Store::ActiveKey> active_keys, std::vector<ProjectRecord> projects);

  // At least one key ever existed. Revoked keys count: revoking every key must not reopen
  // passthrough.
  bool keys_configured = false;

  // The active key whose secret this is, or nullptr (unknown, revoked or malformed).
  const KeyRecord* find(std::string_view secret) const;
  const ProjectRecord* project(const std::string& name) const;
  std::size_t active_key_count() const { return keys_.size(); }

 private:
  // Keyed by the first 8 bytes of the hash (uniform for SHA-256); entries sharing a prefix
  // are told apart by a constant-time comparison of the full 32 bytes.
  std::unordered_multimap<std::uint64_t, Store::ActiveKey> keys_;
  std::unordered_map<std::string, ProjectRecord> projects_;
};

// Reads the store in one transaction. Throws storage::StorageError.
std::shared_ptr<const Snapshot> load_snapshot(const Store& store);

}  // namespace sluice::keys
