#pragma once
// A thin RAII layer over the SQLite C API for sluice's embedded stores (the key store and the
// ledger). One Db is one connection: use it from one thread at a time (SQLite's "multi-thread"
// mode); several connections, in this process or others (`sluice keys`), share a database file
// safely in WAL mode. Errors throw StorageError with SQLite's message and the statement.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::storage {

struct StorageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Stmt;

class Db {
 public:
  struct Options {
    bool read_only = false;
    bool create_dirs = true;          // create the parent directory of a new database
    int busy_timeout_ms = 5'000;      // waits for another writer's lock instead of failing
    bool synchronous_normal = true;   // WAL + NORMAL: durable at checkpoints, safe on crash
  };
  // Opens (and creates unless read-only) the database at `path`, in WAL mode.
  static Db open(const std::string& path, const Options& opts);
  static Db open(const std::string& path) { return open(path, Options{}); }

  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs one or more statements without results (schema, pragmas, BEGIN/COMMIT).
  void exec(std::string_view sql);
  Stmt prepare(std::string_view sql);
  std::int64_t last_insert_rowid() const;
  int changes() const;  // rows changed by the last statement
  // Changes when another connection commits to the file (PRAGMA data_version): a cheap poll
  // for "did anything change since I last looked".
  std::int64_t data_version();
  sqlite3* handle() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// A prepared statement. bind() uses 1-based parameter indexes; col() 0-based columns.
class Stmt {
 public:
  Stmt(Stmt&& o) noexcept : st_(o.st_), db_(o.db_) { o.st_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);  // copied by SQLite
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  // Binds text without copying it: the bytes must stay alive and unchanged until the statement
  // is reset or re-bound (the ledger binds rows that outlive their insert).
  Stmt& bind_static(int i, std::string_view v);
  Stmt& bind_null(int i);
  template <class T>
  Stmt& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }

  // Advances; true while a row is available. Throws on error.
  bool step();
  // Runs a statement that returns no rows, then resets it for reuse.
  void run();
  void reset();  // keeps bindings; call before re-binding

  bool is_null(int col) const;
  std::int64_t int64(int col) const;
  double real(int col) const;
  std::string text(int col) const;
  std::optional<std::int64_t> opt_int64(int col) const;
  std::optional<double> opt_real(int col) const;

 private:
  friend class Db;
  Stmt(sqlite3_stmt* st, sqlite3* db) : st_(st), db_(db) {}
  sqlite3_stmt* st_ = nullptr;
  sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back if not committed (an exception unwinds it).
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace sluice::storage
