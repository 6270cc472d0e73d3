#pragma once
// Opens the stores a config names (docs/deployment.md): the ledger (SQLite or PostgreSQL), its
// usage reader, and the key store (SQLite or PostgreSQL). One place knows the engines, so the
// gateway and the `sluice keys|projects|usage` commands always agree. Throw on a store that
// cannot be opened (storage::StorageError, pg::PgError).

#include <memory>
#include <string>

#include "config/config.hpp"
#include "keys/key_store.hpp"
#include "ledger/ledger.hpp"
#include "ledger/usage_reader.hpp"
#include "pg/connection.hpp"
#include "redis/url.hpp"

namespace sluice::server {

pg::Connection::Options pg_options(const config::PostgresConfig& p);
std::unique_ptr<ledger::Ledger> open_ledger(const config::Config& cfg);
std::unique_ptr<ledger::UsageReader> open_usage_reader(const config::Config& cfg);
std::unique_ptr<keys::Store> open_key_store(const config::Config& cfg);
// Where the keys are, for messages: the SQLite path or "postgresql".
std::string key_store_label(const config::Config& cfg);
// redis.url parsed (config::ConfigError when invalid, which validation catches first).
redis::Endpoint redis_endpoint(const config::RedisConfig& r);

}  // namespace sluice::server
