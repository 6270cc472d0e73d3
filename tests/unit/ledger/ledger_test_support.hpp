#pragma once
// Helpers for the ledger tests: a temporary database file (removed with its WAL files), rows
// read back from `requests`, a bounded poll, and gtest printers.

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "ledger/row.hpp"
#include "ledger/usage_query.hpp"
#include "storage/sqlite.hpp"
#include "unit/eventually.hpp"
#include "unit/storage/temp_db.hpp"

namespace sluice::ledger {

using storage::testing::TempDb;

inline storage::Db open_reader(const std::string& path) {
  return storage::Db::open(path, {.read_only = true, .busy_timeout_ms = 5'000});
}

inline std::int64_t count_rows(const std::string& path) {
  auto db = open_reader(path);
  auto q = db.prepare("SELECT count(*) FROM requests");
  q.step();
  return q.int64(0);
}

inline std::vector<Row> read_rows(const std::string& path) {
  auto db = open_reader(path);
  auto q = db.prepare(
      "SELECT ts_ms, request_id, project, key_id, model, provider, route, status, stream, attempts, "
      "input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, server_tool_uses, cost_micros, "
      "latency_ms, ttft_ms, estimated, redactions, error, redaction_types, stream_id, replayed, recoveries "
      "FROM requests ORDER BY id");
  std::vector<Row> rows;
  while (q.step()) {
    Row r;
    r.ts_ms = q.int64(0);
    r.request_id = q.text(1);
    r.project = q.text(2);
    r.key_id = q.text(3);
    r.model = q.text(4);
    r.provider = q.text(5);
    r.route = q.text(6);
    r.status = static_cast<int>(q.int64(7));
    r.stream = q.int64(8) != 0;
    r.attempts = static_cast<int>(q.int64(9));
    r.input_tokens = q.int64(10);
    r.output_tokens = q.int64(11);
    r.cache_creation_tokens = q.int64(12);
    r.cache_read_tokens = q.int64(13);
    r.server_tool_uses = q.int64(14);
    r.cost_micros = q.int64(15);
    r.latency_ms = q.real(16);
    r.ttft_ms = q.opt_real(17);
    r.estimated = q.int64(18) != 0;
    r.redactions = static_cast<int>(q.int64(19));
    r.redaction_types = q.text(21);
    r.error = q.text(20);
    r.stream_id = q.text(22);
    r.replayed = q.int64(23) != 0;
    r.recoveries = static_cast<int>(q.int64(24));
    rows.push_back(std::move(r));
  }
  return rows;
}

using test_support::eventually;

inline Row simple_row(const std::string& request_id) {
  Row r;
  r.ts_ms = 1'709'251'200'000;
  r.request_id = request_id;
  r.project = "proj";
  r.key_id = "key";
  r.model = "claude-test";
  r.provider = "anthropic";
  r.route = "default";
  r.status = 200;
  r.input_tokens = 10;
  r.output_tokens = 5;
  r.cost_micros = 42;
  r.latency_ms = 12.5;
  return r;
}

inline void PrintTo(const Row& r, std::ostream* os) {
  *os << "{" << r.ts_ms << " " << r.request_id << " " << r.project << " " << r.key_id << " " << r.model << " "
      << r.provider << " " << r.route << " status=" << r.status << " stream=" << r.stream
      << " attempts=" << r.attempts << " in=" << r.input_tokens << " out=" << r.output_tokens
      << " cc=" << r.cache_creation_tokens << " cr=" << r.cache_read_tokens << " stu=" << r.server_tool_uses
      << " cost=" << r.cost_micros << " latency=" << r.latency_ms << " ttft="
      << (r.ttft_ms ? std::to_string(*r.ttft_ms) : "null") << " est=" << r.estimated
      << " red=" << r.redactions << " error=" << r.error << "}";
}

inline void PrintTo(const UsageBucket& b, std::ostream* os) {
  *os << "{" << b.project << "/" << b.group << " req=" << b.requests << " err=" << b.errors
      << " in=" << b.input_tokens << " out=" << b.output_tokens << " cc=" << b.cache_creation_tokens
      << " cr=" << b.cache_read_tokens << " stu=" << b.server_tool_uses << " cost=" << b.cost_micros
      << " est=" << b.estimated << "}";
}

}  // namespace sluice::ledger
