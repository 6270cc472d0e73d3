#pragma once
// Projects and virtual keys in PostgreSQL, shared by every replica (docs/deployment.md): the
// tables `projects` and `keys` as in the SQLite store (only a secret's SHA-256, as bytea), plus
// `keys_version`, a counter every write bumps in its own transaction, which each replica's
// Directory polls (one indexed row per poll) to reload within its key_poll interval.
// Thread-safety: one PgKeyStore is one connection; one thread at a time (Directory serialises
// its own). A lost connection is reopened by the next call. Errors throw pg::PgError or, for bad
// arguments, std::invalid_argument.

#include <string>
#include <vector>

#include "keys/key_store.hpp"
#include "pg/connection.hpp"

namespace sluice::keys {

// The key store's schema steps for pg::migrate (component "keys").
const std::vector<std::string>& pg_key_store_schema();

class PgKeyStore final : public Store {
 public:
  // Connects and creates or migrates the schema. Throws pg::PgError.
  PgKeyStore(std::string conninfo, pg::Connection::Options o);

  NewKey create_key(const std::string& project, const Limits& limits, const std::string& name,
                    std::int64_t now_ms) override;
  bool revoke_key(const std::string& id, std::int64_t now_ms) override;
  std::vector<KeyRecord> list_keys(bool include_revoked) const override;
  std::optional<KeyRecord> find_key(const std::string& id) const override;
  ProjectRecord set_project(const std::string& name, const Limits& limits, std::int64_t now_ms) override;
  std::vector<ProjectRecord> list_projects() const override;
  std::optional<ProjectRecord> find_project(const std::string& name) const override;
  std::int64_t data_version() override;
  Contents read_contents() const override;

 private:
  pg::Connection& conn() const;  // reconnects a broken session

  std::string conninfo_;
  pg::Connection::Options opts_;
  mutable std::optional<pg::Connection> conn_;
};

}  // namespace sluice::keys
