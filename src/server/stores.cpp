#include "server/stores.hpp"

#include "keys/pg_key_store.hpp"
#include "ledger/postgres_ledger.hpp"
#include "ledger/sqlite_ledger.hpp"

namespace sluice::server {

using config::StoreEngine;

pg::Connection::Options pg_options(const config::PostgresConfig& p) {
  pg::Connection::Options o;
  o.connect_timeout = std::chrono::seconds((p.connect_timeout.count() + 999) / 1000);
  o.statement_timeout = p.statement_timeout;
  return o;
}

std::unique_ptr<ledger::Ledger> open_ledger(const config::Config& cfg) {
  if (cfg.ledger.engine == StoreEngine::Postgres) {
    ledger::PostgresLedger::Options o;
    o.conninfo = cfg.postgres.url;
    o.connection = pg_options(cfg.postgres);
    o.batching.commit_window = cfg.ledger.commit_window;
    o.batching.max_queue = cfg.ledger.max_queue;
    return std::make_unique<ledger::PostgresLedger>(o);
  }
  return std::make_unique<ledger::SqliteLedger>(ledger::SqliteLedger::Options{
      .path = cfg.database_path(), .commit_window = cfg.ledger.commit_window, .max_batch = 2000,
      .max_queue = cfg.ledger.max_queue});
}

std::unique_ptr<ledger::UsageReader> open_usage_reader(const config::Config& cfg) {
  if (cfg.ledger.engine == StoreEngine::Postgres) return ledger::open_postgres_usage(cfg.postgres.url, pg_options(cfg.postgres));
  return ledger::open_sqlite_usage(cfg.database_path());
}

std::unique_ptr<keys::Store> open_key_store(const config::Config& cfg) {
  if (cfg.auth.key_store == StoreEngine::Postgres) {
    return std::make_unique<keys::PgKeyStore>(cfg.postgres.url, pg_options(cfg.postgres));
  }
  return std::make_unique<keys::KeyStore>(keys::KeyStore::open(cfg.database_path()));
}

std::string key_store_label(const config::Config& cfg) {
  return cfg.auth.key_store == StoreEngine::Postgres ? std::string("postgresql") : cfg.database_path();
}

redis::Endpoint redis_endpoint(const config::RedisConfig& r) {
  std::string why;
  auto ep = redis::parse_url(r.url, why);
  if (!ep) throw config::ConfigError("redis.url: " + why);  // validate() catches it first
  return *ep;
}

}  // namespace sluice::server
