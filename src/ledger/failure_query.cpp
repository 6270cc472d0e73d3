#include "ledger/failure_query.hpp"

#include "ledger/query_sql.hpp"

namespace sluice::ledger {

std::vector<FailedRequest> recent_failures(storage::Db& db, const FailureFilter& f) {
  auto q = prepare_query(db, failures_sql(f, SqlDialect::Sqlite));
  std::vector<FailedRequest> out;
  while (q.step()) out.push_back(read_failure(q));
  return out;
}

}  // namespace sluice::ledger
