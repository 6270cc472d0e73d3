#pragma once
// Decides which finished requests raise usage alerts: a single request over a token threshold
// (large_request), or a project whose tokens in the current clock hour exceed a factor of its
// hourly baseline and a floor (usage_anomaly, at most once per project per hour). Hours are
// wall-clock hours (UTC) from the Clock, so tests drive it with a FakeClock.
//
// The baseline is the mean of the project's previous `baseline_hours` full hours, hours with no
// use counting as 0; while the project has fewer hours of history than that, the mean is over
// the hours it has (its first, partial hour included). Memory: one small ring of hourly totals
// per project seen.
//
// Thread-safe: one mutex around the per-project state. Pure logic, no I/O; the clock must
// outlive the detector.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alerts/alert.hpp"
#include "alerts/settings.hpp"
#include "common/clock.hpp"

namespace sluice::alerts {

class Detector {
 public:
  // Throws std::invalid_argument when settings_error(s) is not empty.
  Detector(Settings s, const Clock& clock);

  // Called once per finished request with its total tokens (input + output + cache); returns
  // the alerts it raises, large_request first.
  std::vector<Alert> observe(const std::string& project, const std::string& key_id, std::string_view request_id,
                             std::string_view model, std::int64_t tokens);
  // Restores history at start-up (from the ledger), so a restart does not reset baselines:
  // `tokens` used by `project` in `hour` (hours since the epoch, UTC). Call in ascending hour
  // order per project, before any observe(); an hour older than one already seeded is ignored.
  void seed(const std::string& project, std::int64_t hour, std::int64_t tokens);

 private:
  struct ProjectUsage {
    std::int64_t first_hour = 0;    // the hour the project was first seen
    std::int64_t current_hour = 0;  // the hour `current_tokens` belongs to
    std::int64_t current_tokens = 0;
    std::int64_t alerted_hour = -1;    // the last hour an anomaly alert was raised
    std::vector<std::int64_t> totals;  // ring of hourly totals, indexed by hour % baseline_hours
  };
  // The project's state, created at `hour` if new; under mu_.
  ProjectUsage& usage_of(const std::string& project, std::int64_t hour);
  // Moves `u` to `hour`, closing the hours in between (empty hours total 0).
  void roll(ProjectUsage& u, std::int64_t hour) const;
  double baseline(const ProjectUsage& u) const;

  const Settings settings_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, ProjectUsage> projects_;
};

}  // namespace sluice::alerts
