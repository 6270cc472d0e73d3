#include "stages/budget/budget_book.hpp"

#include <cmath>

namespace sluice::stages::budget {

namespace sc = std::chrono;

std::int64_t usd_to_micros(double usd) { return std::llround(usd * 1'000'000.0); }

Period Period::of(sc::system_clock::time_point t) {
  auto days = sc::floor<sc::days>(t);
  sc::year_month_day ymd{days};
  Period p;
  p.day = days.time_since_epoch().count();
  p.month = static_cast<int>(ymd.year()) * 12 + static_cast<int>(static_cast<unsigned>(ymd.month())) - 1;
  return p;
}

sc::system_clock::time_point Period::start_of_day(sc::system_clock::time_point t) { return sc::floor<sc::days>(t); }

sc::system_clock::time_point Period::start_of_month(sc::system_clock::time_point t) {
  sc::year_month_day ymd{sc::floor<sc::days>(t)};
  return sc::sys_days{ymd.year() / ymd.month() / 1};
}

BudgetBook::Entry& BudgetBook::entry(const std::string& id, const Period& now) {
  auto& e = entries_[id];
  if (e.period.day != now.day) e.spend.day_micros = 0;
  if (e.period.month != now.month) e.spend.month_micros = 0;
  e.period = now;
  return e;
}

void BudgetBook::seed(const std::string& id, std::int64_t day_micros, std::int64_t month_micros) {
  std::lock_guard lk(mu_);
  auto& e = entry(id, Period::of(clock_.wall_now()));
  e.spend.day_micros = day_micros;
  e.spend.month_micros = month_micros;
}

void BudgetBook::charge(const std::string& id, std::int64_t micros) {
  if (micros <= 0) return;
  std::lock_guard lk(mu_);
  auto& e = entry(id, Period::of(clock_.wall_now()));
  e.spend.day_micros += micros;
  e.spend.month_micros += micros;
}

BudgetBook::Check BudgetBook::check(const std::string& id, const Budget& budget) {
  Check c;
  if (!budget.any()) return c;
  auto wall = clock_.wall_now();
  std::lock_guard lk(mu_);
  auto& e = entry(id, Period::of(wall));
  if (budget.usd_day && e.spend.day_micros >= usd_to_micros(*budget.usd_day)) {
    c.ok = false;
    c.period = "day";
    c.spent_micros = e.spend.day_micros;
    c.limit_micros = usd_to_micros(*budget.usd_day);
    c.resets_in = sc::ceil<sc::seconds>(Period::start_of_day(wall) + sc::days(1) - wall);
    return c;
  }
  if (budget.usd_month && e.spend.month_micros >= usd_to_micros(*budget.usd_month)) {
    c.ok = false;
    c.period = "month";
    c.spent_micros = e.spend.month_micros;
    c.limit_micros = usd_to_micros(*budget.usd_month);
    sc::year_month_day ymd{sc::floor<sc::days>(wall)};
    auto next = sc::sys_days{(ymd.year() / ymd.month() / 1) + sc::months(1)};
    c.resets_in = sc::ceil<sc::seconds>(next - wall);
  }
  return c;
}

BudgetBook::Spend BudgetBook::spend(const std::string& id) {
  std::lock_guard lk(mu_);
  return entry(id, Period::of(clock_.wall_now())).spend;
}

}  // namespace sluice::stages::budget
