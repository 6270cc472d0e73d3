#include "pg/migrate.hpp"

namespace sluice::pg {

void migrate(Connection& c, std::string_view component, const std::vector<std::string>& steps) {
  Transaction tx(c);
  // One lock for every component: CREATE TABLE IF NOT EXISTS is not safe against a concurrent
  // create of the same table, so the version table itself is created under it too.
  c.exec("SELECT pg_advisory_xact_lock(7215549018210406)");
  c.exec(
      "CREATE TABLE IF NOT EXISTS sluice_schema_versions(component text PRIMARY KEY, version integer NOT NULL, "
      "updated_at timestamptz NOT NULL DEFAULT now())");
  std::string name(component);
  auto rows = c.exec("SELECT version FROM sluice_schema_versions WHERE component = $1", {name});
  const std::int64_t current = rows.size() ? rows.int64(0, 0) : 0;
  const auto known = static_cast<std::int64_t>(steps.size());
  if (current > known) {
    throw PgError("postgresql: the " + name + " schema is at version " + std::to_string(current) +
                  ", newer than this sluice's " + std::to_string(known) + ": upgrade sluice");
  }
  for (auto v = current; v < known; ++v) c.exec_script(steps[static_cast<std::size_t>(v)]);
  if (current < known) {
    c.exec(
        "INSERT INTO sluice_schema_versions(component, version) VALUES($1, $2) ON CONFLICT(component) DO UPDATE "
        "SET version = excluded.version, updated_at = now()",
        {name, std::to_string(known)});
  }
  tx.commit();
}

}  // namespace sluice::pg
