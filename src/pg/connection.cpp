#include "pg/connection.hpp"

#include <cstdlib>

#include <libpq-fe.h>

namespace sluice::pg {

namespace {

std::string message_of(pg_conn* c) {
  std::string m = c ? PQerrorMessage(c) : "out of memory";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

int hex_value(char h) {
  if (h >= '0' && h <= '9') return h - '0';
  if (h >= 'a' && h <= 'f') return h - 'a' + 10;
  if (h >= 'A' && h <= 'F') return h - 'A' + 10;
  return -1;
}

}  // namespace

Rows& Rows::operator=(Rows&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

Rows::~Rows() {
  if (r_) PQclear(r_);
}

int Rows::size() const { return r_ ? PQntuples(r_) : 0; }
bool Rows::is_null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
std::string Rows::text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}
std::int64_t Rows::int64(int row, int col) const {
  return is_null(row, col) ? 0 : std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}
std::optional<std::int64_t> Rows::opt_int64(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}
std::optional<double> Rows::opt_real(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return std::strtod(PQgetvalue(r_, row, col), nullptr);
}
std::string Rows::bytes(int row, int col) const {
  std::string t = text(row, col);
  if (!t.starts_with("\\x")) return t;
  std::string out;
  out.reserve((t.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < t.size(); i += 2) {
    int hi = hex_value(t[i]), lo = hex_value(t[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

Connection Connection::open(const std::string& conninfo, const Options& o) {
  std::string connect_timeout = std::to_string(std::max<long long>(1, o.connect_timeout.count()));
  // Later keywords override what the expanded conninfo says; a dead peer is noticed in ~10 s.
  std::string options = "-c statement_timeout=" + std::to_string(o.statement_timeout.count());
  const char* keys[] = {"dbname", "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", "options", "application_name", nullptr};
  const char* values[] = {conninfo.c_str(), connect_timeout.c_str(), "1", "5", "2", "3", "10000",
                          options.c_str(), "sluice", nullptr};
  pg_conn* c = PQconnectdbParams(keys, values, 1);
  if (!c || PQstatus(c) != CONNECTION_OK) {
    std::string m = message_of(c);
    if (c) PQfinish(c);
    throw PgError("postgresql: cannot connect: " + m);
  }
  // Notices (e.g. "relation already exists, skipping") are not errors: keep them off stderr.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  return Connection(c);
}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    if (c_) PQfinish(c_);
    c_ = o.c_;
    o.c_ = nullptr;
  }
  return *this;
}

Connection::~Connection() {
  if (c_) PQfinish(c_);
}

bool Connection::broken() const { return !c_ || PQstatus(c_) != CONNECTION_OK; }

Rows Connection::exec(const std::string& sql, const std::vector<Param>& params) {
  if (!c_) throw PgError("postgresql: no connection");
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return checked(PQexecParams(c_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(), nullptr,
                              nullptr, 0));
}

void Connection::exec_script(const std::string& sql) {
  if (!c_) throw PgError("postgresql: no connection");
  checked(PQexec(c_, sql.c_str()));
}

Rows Connection::checked(pg_result* res) {
  auto status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(res);
  std::string m = res ? PQresultErrorMessage(res) : message_of(c_);
  if (res) PQclear(res);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  if (m.empty()) m = message_of(c_);
  throw PgError("postgresql: " + m);
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    if (!c_.broken()) c_.exec("ROLLBACK");
  } catch (...) {
  }
}

void Transaction::commit() {
  c_.exec("COMMIT");
  done_ = true;
}

std::string bytea_param(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + raw.size() * 2);
  for (unsigned char b : raw) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace sluice::pg
