#pragma once
// Spend per project and per key for the current UTC day and month, checked against their USD
// budgets before a request is admitted (issue: budgets). Seeded from the ledger at start-up and
// charged with each finished request's cost, so a restart does not reset a budget. Requests in
// flight are not counted until they finish: concurrent requests can overshoot a budget by their
// own cost, never more.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"

namespace sluice::stages::budget {

struct Budget {
  std::optional<double> usd_day, usd_month;
  bool any() const { return usd_day || usd_month; }
};

// Day and month numbers of a wall-clock time, in UTC.
struct Period {
  std::int64_t day = 0;    // days since the epoch
  std::int64_t month = 0;  // year * 12 + month index
  static Period of(std::chrono::system_clock::time_point t);
  static std::chrono::system_clock::time_point start_of_day(std::chrono::system_clock::time_point t);
  static std::chrono::system_clock::time_point start_of_month(std::chrono::system_clock::time_point t);
};

class BudgetBook {
 public:
  explicit BudgetBook(const Clock& clock) : clock_(clock) {}

  // Spend already in the ledger for the current day and month.
  void seed(const std::string& id, std::int64_t day_micros, std::int64_t month_micros);
  void charge(const std::string& id, std::int64_t micros);

  struct Check {
    bool ok = true;
    const char* period = "";       // "day" or "month" when refused
    std::int64_t spent_micros = 0;
    std::int64_t limit_micros = 0;
    std::chrono::seconds resets_in{0};
  };
  Check check(const std::string& id, const Budget& budget);

  struct Spend {
    std::int64_t day_micros = 0, month_micros = 0;
  };
  Spend spend(const std::string& id);

 private:
  struct Entry {
    Period period;
    Spend spend;
  };
  Entry& entry(const std::string& id, const Period& now);  // rolled over to `now`, under mu_

  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

// USD -> integer micro-dollars.
std::int64_t usd_to_micros(double usd);

}  // namespace sluice::stages::budget
