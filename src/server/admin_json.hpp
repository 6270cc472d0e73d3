#pragma once
// JSON shapes shared by the admin API and the `sluice keys` / `sluice usage` commands, so both
// print the same figures (docs/admin-api.md documents them). Pure functions; thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "keys/records.hpp"
#include "ledger/usage_query.hpp"
#include "ledger/usage_reader.hpp"

namespace sluice::server {

boost::json::object limits_json(const keys::Limits& l);
boost::json::object key_json(const keys::KeyRecord& k);
boost::json::object project_json(const keys::ProjectRecord& p);

// Reads rpm, tpm, concurrency, budget_usd_day, budget_usd_month from `o` (each optional, a
// non-negative number; null clears it). Returns an error message, or empty.
std::string read_limits(const boost::json::object& o, keys::Limits& out);

// Decoded query parameters of a URL's query string (the last one wins when a name repeats).
using QueryParams = std::map<std::string, std::string>;
QueryParams query_params(std::string_view query);

// "YYYY-MM-DD" (UTC midnight) or an integer of unix epoch milliseconds.
std::optional<std::int64_t> parse_time(std::string_view s);
std::optional<ledger::GroupBy> parse_group_by(std::string_view s);
const char* group_by_name(ledger::GroupBy g);

// {"by":..., "since":..., "until":..., "data":[buckets...], "totals":{...}}; costs in micro-dollars
// and in USD.
boost::json::object usage_report(ledger::UsageReader& reader, const ledger::UsageFilter& f);

}  // namespace sluice::server
