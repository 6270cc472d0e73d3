#include "keys/key_store.hpp"

#include <cstring>
#include <stdexcept>

#include "keys/record_columns.hpp"

namespace sluice::keys {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS projects(
  name TEXT PRIMARY KEY,
  rpm REAL, tpm REAL, concurrency INTEGER, budget_usd_day REAL, budget_usd_month REAL,
  created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS keys(
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  name TEXT,
  hint TEXT,
  hash BLOB UNIQUE NOT NULL,
  rpm REAL, tpm REAL, concurrency INTEGER, budget_usd_day REAL, budget_usd_month REAL,
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER);
)sql";

constexpr std::string_view kKeyColumns =
    "id, project, name, hint, rpm, tpm, concurrency, budget_usd_day, budget_usd_month, created_ms, revoked_ms";

// Binds the five limit columns starting at parameter `first`.
void bind_limits(storage::Stmt& st, int first, const Limits& l) {
  st.bind(first, l.rpm)
      .bind(first + 1, l.tpm)
      .bind(first + 2, l.concurrency)
      .bind(first + 3, l.budget_usd_day)
      .bind(first + 4, l.budget_usd_month);
}

std::string sql(std::string_view a, std::string_view b, std::string_view c = {}) {
  std::string s(a);
  s += b;
  s += c;
  return s;
}

// A deferred (read) transaction: every SELECT in it sees the same state of the file.
class ReadTransaction {
 public:
  explicit ReadTransaction(storage::Db& db) : db_(db) { db_.exec("BEGIN"); }
  // Ends the read; a transaction left open would pin this connection to an old state.
  ~ReadTransaction() {
    try {
      db_.exec("COMMIT");
    } catch (...) {
      try {
        db_.exec("ROLLBACK");
      } catch (...) {
      }
    }
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  storage::Db& db_;
};

}  // namespace

void check_key_arguments(const std::string& project, const Limits& limits) {
  if (!valid_project_name(project))
    throw std::invalid_argument("invalid project name (1 to 64 of A-Z a-z 0-9 . _ -): '" + project + "'");
  if (!valid_limits(limits)) throw std::invalid_argument("limits must be finite numbers >= 0");
}

NewKey new_key(const std::string& project, const Limits& limits, const std::string& name, std::int64_t now_ms,
               SecretHash& hash) {
  check_key_arguments(project, limits);
  NewKey out;
  out.secret = generate_secret();
  hash = hash_secret(out.secret);
  KeyRecord& k = out.record;
  k.id = generate_key_id();
  k.project = project;
  k.name = name;
  k.hint = secret_hint(out.secret);
  k.limits = limits;
  k.created_ms = now_ms;
  return out;
}

KeyStore KeyStore::open(const std::string& path) {
  auto db = storage::Db::open(path);
  db.exec(kSchema);
  return KeyStore(std::move(db));
}

NewKey KeyStore::create_key(const std::string& project, const Limits& limits, const std::string& name,
                            std::int64_t now_ms) {
  SecretHash hash;
  NewKey out = new_key(project, limits, name, now_ms, hash);
  const KeyRecord& k = out.record;

  storage::Transaction tx(db_);
  db_.prepare("INSERT OR IGNORE INTO projects(name, created_ms) VALUES(?1, ?2)").bind(1, project).bind(2, now_ms).run();
  auto ins = db_.prepare(
      "INSERT INTO keys(id, project, name, hint, hash, rpm, tpm, concurrency, budget_usd_day, budget_usd_month, "
      "created_ms) VALUES(?1, ?2, ?3, ?4, CAST(?5 AS BLOB), ?6, ?7, ?8, ?9, ?10, ?11)");
  // storage::Stmt has no blob binding: the 32 raw bytes go in as text (length-delimited, so
  // NULs survive) and CAST makes the stored value a BLOB.
  ins.bind(1, k.id).bind(2, project).bind(4, k.hint);
  if (name.empty())
    ins.bind_null(3);
  else
    ins.bind(3, name);
  ins.bind(5, std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
  bind_limits(ins, 6, limits);
  ins.bind(11, now_ms);
  ins.run();
  tx.commit();
  return out;
}

bool KeyStore::revoke_key(const std::string& id, std::int64_t now_ms) {
  db_.prepare("UPDATE keys SET revoked_ms = ?1 WHERE id = ?2 AND revoked_ms IS NULL").bind(1, now_ms).bind(2, id).run();
  return db_.changes() == 1;
}

std::vector<KeyRecord> KeyStore::list_keys(bool include_revoked) const {
  auto st = db_.prepare(sql("SELECT ", kKeyColumns,
                            include_revoked ? " FROM keys ORDER BY created_ms, id"
                                            : " FROM keys WHERE revoked_ms IS NULL ORDER BY created_ms, id"));
  std::vector<KeyRecord> out;
  while (st.step()) out.push_back(read_key(st));
  return out;
}

std::optional<KeyRecord> KeyStore::find_key(const std::string& id) const {
  auto st = db_.prepare(sql("SELECT ", kKeyColumns, " FROM keys WHERE id = ?1"));
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_key(st);
}

ProjectRecord KeyStore::set_project(const std::string& name, const Limits& limits, std::int64_t now_ms) {
  check_key_arguments(name, limits);
  storage::Transaction tx(db_);
  auto up = db_.prepare(
      "INSERT INTO projects(name, rpm, tpm, concurrency, budget_usd_day, budget_usd_month, created_ms) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(name) DO UPDATE SET rpm = excluded.rpm, tpm = excluded.tpm, "
      "concurrency = excluded.concurrency, budget_usd_day = excluded.budget_usd_day, "
      "budget_usd_month = excluded.budget_usd_month");
  up.bind(1, name);
  bind_limits(up, 2, limits);
  up.bind(7, now_ms);
  up.run();
  auto p = find_project(name);
  tx.commit();
  if (!p) throw storage::StorageError("keys: project vanished after upsert: " + name);
  return *p;
}

std::vector<ProjectRecord> KeyStore::list_projects() const {
  auto st = db_.prepare(sql("SELECT ", kProjectColumns, " FROM projects ORDER BY name"));
  std::vector<ProjectRecord> out;
  while (st.step()) out.push_back(read_project(st));
  return out;
}

std::optional<ProjectRecord> KeyStore::find_project(const std::string& name) const {
  auto st = db_.prepare(sql("SELECT ", kProjectColumns, " FROM projects WHERE name = ?1"));
  st.bind(1, name);
  if (!st.step()) return std::nullopt;
  return read_project(st);
}

std::int64_t KeyStore::data_version() { return db_.data_version(); }

KeyStore::Contents KeyStore::read_contents() const {
  Contents out;
  ReadTransaction tx(db_);
  {
    auto st = db_.prepare("SELECT EXISTS(SELECT 1 FROM keys)");
    out.keys_configured = st.step() && st.int64(0) != 0;
  }
  {
    auto st = db_.prepare(sql("SELECT ", kKeyColumns, ", hash FROM keys WHERE revoked_ms IS NULL"));
    while (st.step()) {
      // Stmt::text() returns a BLOB's bytes unchanged (sqlite3_column_text + column_bytes).
      std::string raw = st.text(11);
      if (raw.size() != SecretHash{}.size()) continue;  // not written by us: never matches
      ActiveKey k;
      std::memcpy(k.hash.data(), raw.data(), k.hash.size());
      k.record = read_key(st);
      out.active_keys.push_back(std::move(k));
    }
  }
  out.projects = list_projects();
  return out;
}

}  // namespace sluice::keys
