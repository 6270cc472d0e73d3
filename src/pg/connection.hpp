#pragma once
// A thin RAII layer over libpq for sluice's PostgreSQL engines (ledger, key store). One
// Connection is one session: use it from one thread at a time. Every wait is bounded: connect by
// `connect_timeout`, each statement by `statement_timeout` (server side) and a dead peer by TCP
// keepalives and tcp_user_timeout. Errors throw PgError with the server's message; `broken()`
// then says whether the session is lost (reconnect) or only the statement failed.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace sluice::pg {

struct PgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The rows of one statement. Move-only; frees the libpq result.
class Rows {
 public:
  explicit Rows(pg_result* r) : r_(r) {}
  Rows(Rows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Rows& operator=(Rows&& o) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows();

  int size() const;
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;  // "" for NULL
  std::int64_t int64(int row, int col) const;  // 0 for NULL
  std::optional<std::int64_t> opt_int64(int row, int col) const;
  std::optional<double> opt_real(int row, int col) const;
  // bytea columns come as text in hex ("\x0a1b..."): the raw bytes.
  std::string bytes(int row, int col) const;

 private:
  pg_result* r_;
};

// One row of a Rows, read by column with the accessors storage::Stmt has, so that a reader of
// records can serve both stores (keys/record_columns.hpp, ledger/query_sql.hpp). Valid while
// the Rows lives.
struct Row {
  const Rows& rows;
  int row;
  bool is_null(int col) const { return rows.is_null(row, col); }
  std::string text(int col) const { return rows.text(row, col); }
  std::int64_t int64(int col) const { return rows.int64(row, col); }
  std::optional<std::int64_t> opt_int64(int col) const { return rows.opt_int64(row, col); }
  std::optional<double> opt_real(int col) const { return rows.opt_real(row, col); }
};

using Param = std::optional<std::string>;  // nullopt = SQL NULL; text format

class Connection {
 public:
  struct Options {
    std::chrono::seconds connect_timeout{5};
    std::chrono::milliseconds statement_timeout{10'000};
  };
  // `conninfo`: a libpq URI (postgresql://user@host:port/db) or key=value string.
  static Connection open(const std::string& conninfo, const Options& o);
  static Connection open(const std::string& conninfo) { return open(conninfo, Options{}); }

  Connection(Connection&& o) noexcept : c_(o.c_) { o.c_ = nullptr; }
  Connection& operator=(Connection&& o) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // One statement with $1.. parameters in text format. Throws PgError.
  Rows exec(const std::string& sql, const std::vector<Param>& params);
  Rows exec(const std::string& sql) { return exec(sql, {}); }
  // Several statements, no parameters (schema scripts). Throws PgError.
  void exec_script(const std::string& sql);
  // The session is lost (the server went away); a new Connection is needed.
  bool broken() const;

 private:
  explicit Connection(pg_conn* c) : c_(c) {}
  // `res` as Rows if the statement succeeded; else frees it and throws PgError.
  Rows checked(pg_result* res);
  pg_conn* c_;
};

// BEGIN on construction, ROLLBACK on destruction unless commit() ran.
class Transaction {
 public:
  explicit Transaction(Connection& c, const char* begin = "BEGIN") : c_(c) { c_.exec(begin); }
  ~Transaction();
  void commit();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  Connection& c_;
  bool done_ = false;
};

// A literal for a bytea parameter in text format: "\x" + hex.
std::string bytea_param(std::string_view raw);

}  // namespace sluice::pg
