#include "keys/pg_key_store.hpp"

#include <cstdio>
#include <cstring>

#include "keys/record_columns.hpp"
#include "pg/migrate.hpp"

namespace sluice::keys {

namespace {

constexpr const char* kKeyColumns =
    "id, project, coalesce(name, ''), coalesce(hint, ''), rpm, tpm, concurrency, budget_usd_day, budget_usd_month, "
    "created_ms, revoked_ms";

pg::Param real(const std::optional<double>& v) {
  if (!v) return std::nullopt;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", *v);
  return std::string(buf);
}

void add_limits(std::vector<pg::Param>& p, const Limits& l) {
  p.push_back(real(l.rpm));
  p.push_back(real(l.tpm));
  p.push_back(l.concurrency ? pg::Param(std::to_string(*l.concurrency)) : std::nullopt);
  p.push_back(real(l.budget_usd_day));
  p.push_back(real(l.budget_usd_month));
}

KeyRecord read_key(const pg::Rows& r, int row) { return keys::read_key(pg::Row{r, row}); }
ProjectRecord read_project(const pg::Rows& r, int row) { return keys::read_project(pg::Row{r, row}); }

std::string cat(const char* a, const char* b, const char* c = "") { return std::string(a) + b + c; }

constexpr const char* kBump = "UPDATE keys_version SET version = version + 1 WHERE id = 1";

}  // namespace

const std::vector<std::string>& pg_key_store_schema() {
  static const std::vector<std::string> steps = {R"sql(
CREATE TABLE projects(
  name text PRIMARY KEY,
  rpm double precision, tpm double precision, concurrency integer,
  budget_usd_day double precision, budget_usd_month double precision,
  created_ms bigint NOT NULL);
CREATE TABLE keys(
  id text PRIMARY KEY,
  project text NOT NULL,
  name text,
  hint text,
  hash bytea UNIQUE NOT NULL,
  rpm double precision, tpm double precision, concurrency integer,
  budget_usd_day double precision, budget_usd_month double precision,
  created_ms bigint NOT NULL,
  revoked_ms bigint);
CREATE TABLE keys_version(id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL);
INSERT INTO keys_version VALUES (1, 0);
)sql"};
  return steps;
}

PgKeyStore::PgKeyStore(std::string conninfo, pg::Connection::Options o) : conninfo_(std::move(conninfo)), opts_(o) {
  conn();
}

pg::Connection& PgKeyStore::conn() const {
  if (!conn_ || conn_->broken()) {
    conn_.reset();
    auto c = pg::Connection::open(conninfo_, opts_);
    pg::migrate(c, "keys", pg_key_store_schema());
    conn_.emplace(std::move(c));
  }
  return *conn_;
}

NewKey PgKeyStore::create_key(const std::string& project, const Limits& limits, const std::string& name,
                              std::int64_t now_ms) {
  SecretHash hash;
  NewKey out = new_key(project, limits, name, now_ms, hash);
  const KeyRecord& k = out.record;

  auto& c = conn();
  pg::Transaction tx(c);
  c.exec("INSERT INTO projects(name, created_ms) VALUES($1, $2) ON CONFLICT(name) DO NOTHING",
         {project, std::to_string(now_ms)});
  std::vector<pg::Param> p{k.id, project, name.empty() ? pg::Param() : pg::Param(name), k.hint,
                           pg::bytea_param(std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()))};
  add_limits(p, limits);
  p.push_back(std::to_string(now_ms));
  c.exec(
      "INSERT INTO keys(id, project, name, hint, hash, rpm, tpm, concurrency, budget_usd_day, budget_usd_month, "
      "created_ms) VALUES($1, $2, $3, $4, $5::bytea, $6, $7, $8, $9, $10, $11)",
      p);
  c.exec(kBump);
  tx.commit();
  return out;
}

bool PgKeyStore::revoke_key(const std::string& id, std::int64_t now_ms) {
  auto& c = conn();
  pg::Transaction tx(c);
  auto r = c.exec("UPDATE keys SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL RETURNING id",
                  {std::to_string(now_ms), id});
  if (r.size() != 1) return false;  // the transaction rolls back: nothing changed
  c.exec(kBump);
  tx.commit();
  return true;
}

std::vector<KeyRecord> PgKeyStore::list_keys(bool include_revoked) const {
  auto r = conn().exec(cat("SELECT ", kKeyColumns,
                           include_revoked ? " FROM keys ORDER BY created_ms, id"
                                           : " FROM keys WHERE revoked_ms IS NULL ORDER BY created_ms, id"));
  std::vector<KeyRecord> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(read_key(r, i));
  return out;
}

std::optional<KeyRecord> PgKeyStore::find_key(const std::string& id) const {
  auto r = conn().exec(cat("SELECT ", kKeyColumns, " FROM keys WHERE id = $1"), {id});
  if (r.size() == 0) return std::nullopt;
  return read_key(r, 0);
}

ProjectRecord PgKeyStore::set_project(const std::string& name, const Limits& limits, std::int64_t now_ms) {
  check_key_arguments(name, limits);
  auto& c = conn();
  pg::Transaction tx(c);
  std::vector<pg::Param> p{name};
  add_limits(p, limits);
  p.push_back(std::to_string(now_ms));
  auto r = c.exec(cat(
                      "INSERT INTO projects(name, rpm, tpm, concurrency, budget_usd_day, budget_usd_month, created_ms) "
                      "VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT(name) DO UPDATE SET rpm = excluded.rpm, "
                      "tpm = excluded.tpm, concurrency = excluded.concurrency, budget_usd_day = excluded.budget_usd_day, "
                      "budget_usd_month = excluded.budget_usd_month RETURNING ",
                      kProjectColumns),
                  p);
  c.exec(kBump);
  tx.commit();
  return read_project(r, 0);
}

std::vector<ProjectRecord> PgKeyStore::list_projects() const {
  auto r = conn().exec(cat("SELECT ", kProjectColumns, " FROM projects ORDER BY name"));
  std::vector<ProjectRecord> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(read_project(r, i));
  return out;
}

std::optional<ProjectRecord> PgKeyStore::find_project(const std::string& name) const {
  auto r = conn().exec(cat("SELECT ", kProjectColumns, " FROM projects WHERE name = $1"), {name});
  if (r.size() == 0) return std::nullopt;
  return read_project(r, 0);
}

std::int64_t PgKeyStore::data_version() {
  return conn().exec("SELECT version FROM keys_version WHERE id = 1").int64(0, 0);
}

Store::Contents PgKeyStore::read_contents() const {
  auto& c = conn();
  Contents out;
  // One snapshot of the database for all three reads.
  pg::Transaction tx(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  out.keys_configured = c.exec("SELECT EXISTS(SELECT 1 FROM keys)").text(0, 0) == "t";
  auto keys = c.exec(cat("SELECT ", kKeyColumns, ", hash FROM keys WHERE revoked_ms IS NULL"));
  for (int i = 0; i < keys.size(); ++i) {
    std::string raw = keys.bytes(i, 11);
    ActiveKey k;
    if (raw.size() != k.hash.size()) continue;  // not written by us: never matches
    std::memcpy(k.hash.data(), raw.data(), k.hash.size());
    k.record = read_key(keys, i);
    out.active_keys.push_back(std::move(k));
  }
  auto projects = c.exec(cat("SELECT ", kProjectColumns, " FROM projects ORDER BY name"));
  for (int i = 0; i < projects.size(); ++i) out.projects.push_back(read_project(projects, i));
  tx.commit();
  return out;
}

}  // namespace sluice::keys
