#pragma once
// The key store: the SQLite tables `projects` and `keys` (NULL limit columns = unlimited).
// Only a secret's SHA-256 (a 32-byte BLOB) and its hint are stored, never the secret. The
// database file is shared with the ledger, so open() creates only these two tables, IF NOT
// EXISTS. Other connections (the `sluice keys` CLI, another gateway) may write concurrently;
// data_version() tells a poller that one did.
// Thread-safety: one KeyStore is one SQLite connection; use it from one thread at a time
// (Directory serialises its own with a mutex). Errors throw storage::StorageError.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keys/records.hpp"
#include "keys/secret.hpp"
#include "storage/sqlite.hpp"

namespace sluice::keys {

// What the gateway and the CLI need of a key store, whichever engine holds it: the SQLite file
// (KeyStore, below) or PostgreSQL (pg_key_store.hpp), so every replica sees the same keys.
class Store {
 public:
  Store() = default;
  Store(Store&&) = default;
  Store& operator=(Store&&) = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  // Creates a key in `project`, creating the project (without limits) if missing.
  // Throws std::invalid_argument on a bad project name or invalid (negative, NaN) limits.
  virtual NewKey create_key(const std::string& project, const Limits& limits, const std::string& name,
                            std::int64_t now_ms) = 0;
  // False if the id is unknown or the key is already revoked.
  virtual bool revoke_key(const std::string& id, std::int64_t now_ms) = 0;
  // Ordered by creation time.
  virtual std::vector<KeyRecord> list_keys(bool include_revoked) const = 0;
  virtual std::optional<KeyRecord> find_key(const std::string& id) const = 0;
  // Creates the project or replaces its limits (its created_ms is kept).
  virtual ProjectRecord set_project(const std::string& name, const Limits& limits, std::int64_t now_ms) = 0;
  // Ordered by name.
  virtual std::vector<ProjectRecord> list_projects() const = 0;
  virtual std::optional<ProjectRecord> find_project(const std::string& name) const = 0;
  // Moves when the stored keys or projects may have changed (a poller reloads then).
  virtual std::int64_t data_version() = 0;

  // What a Snapshot is built from, read in one transaction so it is self-consistent.
  struct ActiveKey {
    SecretHash hash;
    KeyRecord record;
  };
  struct Contents {
    bool keys_configured = false;  // a key ever existed (revoked ones count)
    std::vector<ActiveKey> active_keys;
    std::vector<ProjectRecord> projects;
  };
  virtual Contents read_contents() const = 0;
};

// Throws std::invalid_argument unless `project` is a valid name and `limits` are valid.
void check_key_arguments(const std::string& project, const Limits& limits);
// A new key for either store to insert: checked arguments, a fresh secret (shown once), its id,
// hint and record; `hash` receives the SHA-256 that is stored instead of the secret.
NewKey new_key(const std::string& project, const Limits& limits, const std::string& name, std::int64_t now_ms,
               SecretHash& hash);

class KeyStore final : public Store {
 public:
  // Opens (creating the file and the tables if needed) the database at `path`.
  static KeyStore open(const std::string& path);

  // Creates a key in `project`, creating the project (without limits) if missing.
  // Throws std::invalid_argument on a bad project name or invalid (negative, NaN) limits.
  NewKey create_key(const std::string& project, const Limits& limits, const std::string& name,
                    std::int64_t now_ms) override;
  // False if the id is unknown or the key is already revoked.
  bool revoke_key(const std::string& id, std::int64_t now_ms) override;
  // Ordered by creation time.
  std::vector<KeyRecord> list_keys(bool include_revoked) const override;
  std::optional<KeyRecord> find_key(const std::string& id) const override;

  // Creates the project or replaces its limits (its created_ms is kept). Throws
  // std::invalid_argument like create_key.
  ProjectRecord set_project(const std::string& name, const Limits& limits, std::int64_t now_ms) override;
  // Ordered by name.
  std::vector<ProjectRecord> list_projects() const override;
  std::optional<ProjectRecord> find_project(const std::string& name) const override;

  // Moves when another connection commits to the file (not on this connection's own writes).
  std::int64_t data_version() override;

  Contents read_contents() const override;

 private:
  explicit KeyStore(storage::Db db) : db_(std::move(db)) {}
  // Mutable because reading prepares statements on the connection; constness here means
  // "does not change the stored data".
  mutable storage::Db db_;
};

}  // namespace sluice::keys
