#pragma once
// The JSON the dashboard reads (docs/admin-api.md, "Dashboard endpoints"): daily usage per
// project shaped for charts, keys and projects with their limits and current use, recent
// alerts, recent failed requests, and the live snapshot's request figures. Pure builders over
// their sources; bad query parameters throw std::invalid_argument with a message for the
// client (the admin API answers it as a 400). Thread-safety is that of the sources passed in.

#include <cstdint>
#include <vector>

#include <boost/json/object.hpp>

#include "alerts/recent.hpp"
#include "keys/records.hpp"
#include "ledger/ledger.hpp"
#include "metrics/recent_window.hpp"
#include "server/accounting.hpp"
#include "server/admin_json.hpp"
#include "ledger/usage_reader.hpp"

namespace sluice::server {

// GET /admin/usage/daily?from=YYYY-MM-DD&to=YYYY-MM-DD&project=a,b: one series per project,
// one point per UTC day of the range (both ends included; days without use are 0). `known`:
// the key store's projects, offered as filter choices. Default range: the 7 days up to today.
boost::json::object daily_usage(ledger::UsageReader& db, const std::vector<keys::ProjectRecord>& known, const QueryParams& q,
                                std::int64_t now_ms);

// GET /admin/limits: active keys and projects, each with its limits and how much of them is in
// use now (rate limiters' state, today's and this month's spend, the budget left).
boost::json::object limits_report(Accounting& acc);

// GET /admin/alerts?limit=N: the last alerts raised since start-up, newest first.
boost::json::object alerts_report(const alerts::RecentAlerts& recent, const QueryParams& q);

// GET /admin/requests/failed?limit=N&project=P&since=T: the newest failed requests in the
// ledger (status >= 400 or an error kind), without any prompt text (the ledger holds none).
boost::json::object failures_report(ledger::UsageReader& db, const QueryParams& q);

// The request side of GET /admin/live?window=S (S from 1 to the window's maximum, default 60).
boost::json::object live_report(const metrics::RecentWindow& live, const QueryParams& q, std::int64_t active_streams,
                                const ledger::Ledger::Stats& ledger);

}  // namespace sluice::server
