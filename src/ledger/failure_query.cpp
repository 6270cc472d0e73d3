#include "ledger/failure_query.hpp"

#include <utility>

namespace sluice::ledger {

std::vector<FailedRequest> recent_failures(storage::Db& db, const FailureFilter& f) {
  // Walks the ts_ms index backwards and stops after `limit` matches.
  std::string sql =
      "SELECT ts_ms, request_id, project, key_id, model, provider, route, error, status, stream, attempts, "
      "latency_ms, ttft_ms, input_tokens, output_tokens, cost_micros FROM requests "
      "WHERE ts_ms >= ?1 AND (status >= 400 OR error <> '')";
  if (f.project) sql += " AND project = ?2";
  sql += " ORDER BY ts_ms DESC, id DESC LIMIT ?3";
  auto q = db.prepare(sql);
  q.bind(1, f.since_ms);
  if (f.project) q.bind(2, *f.project);
  q.bind(3, static_cast<std::int64_t>(f.limit));
  std::vector<FailedRequest> out;
  while (q.step()) {
    FailedRequest r;
    r.ts_ms = q.int64(0);
    r.request_id = q.text(1);
    r.project = q.text(2);
    r.key_id = q.text(3);
    r.model = q.text(4);
    r.provider = q.text(5);
    r.route = q.text(6);
    r.error = q.text(7);
    r.status = static_cast<int>(q.int64(8));
    r.stream = q.int64(9) != 0;
    r.attempts = static_cast<int>(q.int64(10));
    r.latency_ms = q.opt_real(11).value_or(0);
    r.ttft_ms = q.opt_real(12);
    r.input_tokens = q.int64(13);
    r.output_tokens = q.int64(14);
    r.cost_micros = q.int64(15);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sluice::ledger
