#pragma once
// Usage aggregates read from the ledger's `requests` table, for `sluice usage`, the admin API
// and budgets at start-up. Plain functions over a caller-owned connection (a read-only one is
// enough); they see what the writer has committed, not rows still queued. Thread-safety is the
// connection's: use each storage::Db from one thread at a time.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/sqlite.hpp"

namespace sluice::ledger {

enum class GroupBy {
  Day,      // UTC calendar day, "YYYY-MM-DD"
  Model,    // model name as recorded
  Key,      // virtual key id
  Project,  // project name (the same as UsageBucket::project)
};

struct UsageFilter {
  std::optional<std::string> project, key_id;  // only this project / key when set
  std::int64_t since_ms = 0;                   // inclusive, unix epoch ms
  std::optional<std::int64_t> until_ms;        // exclusive, unix epoch ms
  GroupBy by = GroupBy::Day;
};

struct UsageBucket {
  std::string project;
  std::string group;  // day as "YYYY-MM-DD" (UTC), model, key id, or project name
  std::int64_t requests = 0, errors = 0, input_tokens = 0, output_tokens = 0, cache_creation_tokens = 0,
               cache_read_tokens = 0, server_tool_uses = 0, cost_micros = 0;
  std::int64_t estimated = 0;  // requests whose usage was (partly) estimated

  // Adds `b`'s counts to this one's (a total over buckets; project and group stay).
  void add(const UsageBucket& b) {
    requests += b.requests;
    errors += b.errors;
    input_tokens += b.input_tokens;
    output_tokens += b.output_tokens;
    cache_creation_tokens += b.cache_creation_tokens;
    cache_read_tokens += b.cache_read_tokens;
    server_tool_uses += b.server_tool_uses;
    cost_micros += b.cost_micros;
    estimated += b.estimated;
  }
  bool operator==(const UsageBucket&) const = default;
};

// Sums per (project, group), sorted by project then group. An error is a row with status >= 400
// or a non-empty error kind. Throws storage::StorageError.
std::vector<UsageBucket> query_usage(storage::Db& db, const UsageFilter& f);

// Spend since `since_ms` (inclusive), for budgets at start-up: project -> cost_micros and
// key id -> cost_micros.
std::unordered_map<std::string, std::int64_t> cost_by_project_since(storage::Db& db, std::int64_t since_ms);
std::unordered_map<std::string, std::int64_t> cost_by_key_since(storage::Db& db, std::int64_t since_ms);

// Tokens (input + output + cache) per project per UTC hour since `since_ms`, sorted by project
// then hour, for the alert baselines at start-up.
struct HourlyTokens {
  std::string project;
  std::int64_t hour = 0;  // hours since the epoch
  std::int64_t tokens = 0;
};
std::vector<HourlyTokens> tokens_by_project_hour(storage::Db& db, std::int64_t since_ms);

}  // namespace sluice::ledger
