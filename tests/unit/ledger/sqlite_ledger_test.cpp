#include "ledger/sqlite_ledger.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "ledger_test_support.hpp"

namespace sluice::ledger {
namespace {

using namespace std::chrono_literals;

SqliteLedger::Options options(const TempDb& db, std::chrono::milliseconds window = 1h) {
  SqliteLedger::Options o;
  o.path = db.path();
  o.commit_window = window;
  return o;
}

TEST(SqliteLedger, RowsRoundTripExactly) {
  TempDb tmp("roundtrip.db");
  Row full;
  full.ts_ms = 1'709'337'599'999;
  full.request_id = "req_011CabcdefghijklmnopqrstU";
  full.project = "proj-\"quoted\" ünïcode";
  full.key_id = "sk-sl-key-1";
  full.model = "claude-opus-4-1-20250805";
  full.provider = "anthropic";
  full.route = "primary/fallback";
  full.status = 529;
  full.stream = true;
  full.attempts = 3;
  full.input_tokens = 123'456'789'012;
  full.output_tokens = 2;
  full.cache_creation_tokens = 3;
  full.cache_read_tokens = 4;
  full.server_tool_uses = 5;
  full.cost_micros = std::int64_t{1} << 50;
  full.latency_ms = 1234.5678;
  full.ttft_ms = 87.25;
  full.estimated = true;
  full.redactions = 7;
  full.redaction_types = "aws_access_key:4,password:3";
  full.error = "UpstreamOverloaded";

  Row minimal;  // every default: null ttft, empty strings, false flags
  minimal.request_id = "req_2";

  {
    SqliteLedger ledger(options(tmp));
    ledger.append(full);
    ledger.append(minimal);
    ledger.flush();
  }
  auto rows = read_rows(tmp.path());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], full);
  EXPECT_EQ(rows[1], minimal);
  EXPECT_FALSE(rows[1].ttft_ms.has_value());
}

TEST(SqliteLedger, EveryRowOfABatchKeepsItsOwnValuesWhateverStatementWroteIt) {
  // 77 rows = two 32-row INSERTs, one of 8 and five single rows: every field differs from row
  // to row, so a row bound at the wrong offset of a multi-row statement cannot go unnoticed.
  TempDb tmp("multirow.db");
  std::vector<Row> sent;
  for (int i = 0; i < 77; ++i) {
    Row r;
    r.ts_ms = 1'709'251'200'000 + i;
    r.request_id = "req_" + std::to_string(i);
    r.project = "p" + std::to_string(i % 5);
    r.key_id = "k" + std::to_string(i % 7);
    r.model = "model-" + std::to_string(i);
    r.provider = "prov-" + std::to_string(i % 3);
    r.route = "/route/" + std::to_string(i);
    r.status = 200 + i;
    r.stream = i % 2 == 1;
    r.attempts = 1 + i % 4;
    r.input_tokens = 1'000 + i;
    r.output_tokens = 2'000 + i;
    r.cache_creation_tokens = 3'000 + i;
    r.cache_read_tokens = 4'000 + i;
    r.server_tool_uses = i % 6;
    r.cost_micros = 5'000'000 + i;
    r.latency_ms = 10.5 + i;
    if (i % 3 != 0) r.ttft_ms = 1.25 + i;
    r.estimated = i % 4 == 0;
    r.redactions = i % 9;
    r.redaction_types = i % 9 ? "password:" + std::to_string(i % 9) : "";
    r.error = i % 10 == 0 ? "UpstreamFailed" : "";
    r.stream_id = r.stream ? "str_" + std::to_string(i) : "";
    r.replayed = i % 11 == 0;
    r.recoveries = i % 3;
    sent.push_back(r);
  }
  {
    SqliteLedger ledger(options(tmp));
    for (const auto& r : sent) ledger.append(r);
    ledger.flush();
    EXPECT_EQ(ledger.stats().transactions, 1u);
  }
  EXPECT_EQ(read_rows(tmp.path()), sent);
}

TEST(SqliteLedger, NonFiniteLatencyIsStoredWithoutJammingTheQueue) {
  TempDb tmp("nan.db");
  SqliteLedger ledger(options(tmp));
  auto r = simple_row("req_nan");
  r.latency_ms = std::numeric_limits<double>::quiet_NaN();
  r.ttft_ms = std::numeric_limits<double>::quiet_NaN();
  ledger.append(r);
  ledger.append(simple_row("req_after"));
  ledger.flush();
  auto rows = read_rows(tmp.path());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].latency_ms, 0.0);  // stored as NULL
  EXPECT_FALSE(rows[0].ttft_ms.has_value());
  EXPECT_EQ(ledger.stats().write_errors, 0u);
}

TEST(SqliteLedger, FlushMakesRowsVisibleToAnotherConnection) {
  TempDb tmp("flush.db");
  SqliteLedger ledger(options(tmp));  // a one-hour window: only flush commits
  for (int i = 0; i < 3; ++i) ledger.append(simple_row("req_" + std::to_string(i)));
  EXPECT_EQ(count_rows(tmp.path()), 0);
  ledger.flush();
  EXPECT_EQ(count_rows(tmp.path()), 3);
  auto s = ledger.stats();
  EXPECT_EQ(s.appended, 3u);
  EXPECT_EQ(s.written, 3u);
  EXPECT_EQ(s.transactions, 1u);
  EXPECT_EQ(s.queued, 0u);
  ledger.flush();  // nothing pending: returns at once
  EXPECT_TRUE(ledger.flush_for(0ms));
}

TEST(SqliteLedger, FlushFromSeveralThreadsCoversEachCallersRows) {
  TempDb tmp("flush_threads.db");
  SqliteLedger ledger(options(tmp));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto reader = open_reader(tmp.path());
      auto q = reader.prepare("SELECT count(*) FROM requests WHERE project = ?1");
      std::string project = "p" + std::to_string(t);
      for (int i = 1; i <= 50; ++i) {
        auto r = simple_row("req_" + project + "_" + std::to_string(i));
        r.project = project;
        ledger.append(std::move(r));
        if (i % 10 != 0) continue;
        ledger.flush();
        q.bind(1, project);
        q.step();
        if (q.int64(0) != i) ++failures;
        q.reset();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count_rows(tmp.path()), 200);
}

TEST(SqliteLedger, ManyAppendsFromFourThreadsArriveOnceInFewTransactions) {
  TempDb tmp("batching.db");
  SqliteLedger ledger(options(tmp, 50ms));  // max_batch 2000
  constexpr int kThreads = 4, kPerThread = 5'000, kTotal = kThreads * kPerThread;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) ledger.append(simple_row(std::to_string(t) + "-" + std::to_string(i)));
    });
  }
  for (auto& th : threads) th.join();
  ledger.flush();

  auto db = open_reader(tmp.path());
  auto q = db.prepare("SELECT count(*), count(DISTINCT request_id) FROM requests");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), kTotal);
  EXPECT_EQ(q.int64(1), kTotal);
  auto s = ledger.stats();
  EXPECT_EQ(s.appended, static_cast<std::uint64_t>(kTotal));
  EXPECT_EQ(s.written, static_cast<std::uint64_t>(kTotal));
  EXPECT_GE(s.transactions, static_cast<std::uint64_t>(kTotal / 2000));  // no batch above max_batch
  EXPECT_LE(s.transactions, static_cast<std::uint64_t>(kTotal / 100));   // far fewer than rows
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.write_errors, 0u);
}

TEST(SqliteLedger, FullBatchIsCommittedAtOnce) {
  TempDb tmp("full_batch.db");
  auto o = options(tmp);  // a one-hour window: only a full batch commits
  o.max_batch = 10;
  SqliteLedger ledger(o);
  for (int i = 0; i < 25; ++i) ledger.append(simple_row("req_" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return ledger.stats().written == 20; }));
  auto s = ledger.stats();
  EXPECT_EQ(s.transactions, 2u);
  EXPECT_EQ(s.queued, 5u);
  EXPECT_EQ(count_rows(tmp.path()), 20);
}

TEST(SqliteLedger, RowsAreCommittedWithinTheCommitWindowWithoutFlush) {
  TempDb tmp("window.db");
  SqliteLedger ledger(options(tmp, 100ms));
  auto start = std::chrono::steady_clock::now();
  ledger.append(simple_row("req_window"));
  ASSERT_TRUE(eventually([&] { return count_rows(tmp.path()) == 1; }, 5s));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 100ms);  // the writer waits for the window to fill...
  EXPECT_LT(elapsed, 5s);     // ...but never holds a row much past it
  EXPECT_EQ(ledger.stats().transactions, 1u);
}

TEST(SqliteLedger, DestructorCommitsEverythingLeft) {
  TempDb tmp("dtor.db");
  {
    SqliteLedger ledger(options(tmp));
    for (int i = 0; i < 100; ++i) ledger.append(simple_row("req_" + std::to_string(i)));
    EXPECT_EQ(ledger.stats().written, 0u);
  }
  EXPECT_EQ(count_rows(tmp.path()), 100);
}

SqliteLedger::Options locked_store_options(const TempDb& tmp) {
  auto o = options(tmp, 5ms);
  o.busy_timeout_ms = 20;
  o.retry_backoff = 5ms;
  o.max_retry_backoff = 20ms;
  return o;
}

TEST(SqliteLedger, WriteErrorsKeepRowsUntilTheStoreRecovers) {
  TempDb tmp("locked.db");
  SqliteLedger ledger(locked_store_options(tmp));
  auto blocker = storage::Db::open(tmp.path());
  blocker.exec("BEGIN EXCLUSIVE");

  testing::internal::CaptureStderr();
  for (int i = 0; i < 50; ++i) {
    auto r = simple_row("req_locked_" + std::to_string(i));
    r.project = "confidential-project";
    r.model = "confidential-model";
    ledger.append(std::move(r));
  }
  ASSERT_TRUE(eventually([&] { return ledger.stats().write_errors >= 3; }));
  EXPECT_FALSE(ledger.flush_for(30ms));  // still failing: the deadline runs out, rows stay queued
  EXPECT_EQ(ledger.stats().queued, 50u);
  blocker.exec("ROLLBACK");
  ledger.flush();
  std::string log = testing::internal::GetCapturedStderr();

  EXPECT_EQ(count_rows(tmp.path()), 50);
  auto s = ledger.stats();
  EXPECT_EQ(s.written, 50u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_GE(s.write_errors, 3u);
  EXPECT_NE(log.find("ledger"), std::string::npos);
  EXPECT_NE(log.find("req_locked_0"), std::string::npos);
  EXPECT_EQ(log.find("confidential"), std::string::npos) << log;
}

TEST(SqliteLedger, QueueOverflowDropsTheOldestRows) {
  TempDb tmp("overflow.db");
  auto o = locked_store_options(tmp);
  o.max_batch = 5;
  o.max_queue = 10;
  SqliteLedger ledger(o);
  auto blocker = storage::Db::open(tmp.path());
  blocker.exec("BEGIN EXCLUSIVE");

  testing::internal::CaptureStderr();
  for (int i = 0; i < 30; ++i) ledger.append(simple_row("req_" + std::to_string(i)));
  // Two failed attempts after the appends: the in-flight batch went back and was trimmed too.
  auto errors_before = ledger.stats().write_errors;
  ASSERT_TRUE(eventually([&] { return ledger.stats().write_errors >= errors_before + 2; }));
  EXPECT_EQ(ledger.stats().queued, 10u);
  blocker.exec("ROLLBACK");
  ledger.flush();
  testing::internal::GetCapturedStderr();

  auto s = ledger.stats();
  EXPECT_EQ(s.appended, 30u);
  EXPECT_EQ(s.dropped, 20u);
  EXPECT_EQ(s.written, 10u);
  auto rows = read_rows(tmp.path());
  ASSERT_EQ(rows.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(rows[i].request_id, "req_" + std::to_string(20 + i));
}

TEST(SqliteLedger, WaitingFlushReturnsWhenTheDestructorHasCommitted) {
  TempDb tmp("flush_dtor.db");
  auto ledger = std::make_unique<SqliteLedger>(locked_store_options(tmp));
  SqliteLedger* raw = ledger.get();
  auto blocker = storage::Db::open(tmp.path());
  blocker.exec("BEGIN EXCLUSIVE");

  testing::internal::CaptureStderr();
  for (int i = 0; i < 10; ++i) raw->append(simple_row("req_" + std::to_string(i)));
  std::atomic<bool> flushed{false};
  std::thread flusher([&] {
    raw->flush();
    flushed = true;
  });
  ASSERT_TRUE(eventually([&] { return raw->flush_waiters_for_test() == 1 && raw->stats().write_errors >= 1; }));
  std::thread destroyer([&] { ledger.reset(); });
  std::this_thread::sleep_for(50ms);  // the destructor retries against the lock meanwhile
  EXPECT_FALSE(flushed.load());
  blocker.exec("ROLLBACK");
  destroyer.join();
  flusher.join();
  testing::internal::GetCapturedStderr();
  EXPECT_TRUE(flushed.load());
  EXPECT_EQ(count_rows(tmp.path()), 10);
}

TEST(SqliteLedger, DestructorGivesUpOnAStoreStillFailingAfterShutdownTimeout) {
  TempDb tmp("dtor_timeout.db");
  auto o = locked_store_options(tmp);
  o.shutdown_timeout = 100ms;
  auto ledger = std::make_unique<SqliteLedger>(o);
  auto blocker = storage::Db::open(tmp.path());
  blocker.exec("BEGIN EXCLUSIVE");
  testing::internal::CaptureStderr();
  for (int i = 0; i < 10; ++i) ledger->append(simple_row("req_" + std::to_string(i)));
  auto start = std::chrono::steady_clock::now();
  ledger.reset();
  auto elapsed = std::chrono::steady_clock::now() - start;
  std::string log = testing::internal::GetCapturedStderr();
  blocker.exec("ROLLBACK");
  EXPECT_LT(elapsed, 5s);
  EXPECT_NE(log.find("dropped 10 row(s)"), std::string::npos) << log;
  EXPECT_EQ(count_rows(tmp.path()), 0);
}

}  // namespace
}  // namespace sluice::ledger
