#include "stages/budget/budget_book.hpp"

#include <gtest/gtest.h>

namespace sluice::stages::budget {
namespace {

namespace sc = std::chrono;

// 2026-11-26T23:00:00Z
sc::system_clock::time_point late_evening() { return sc::sys_days{sc::year{2026} / 11 / 26} + sc::hours(23); }

TEST(BudgetBook, RefusesOnceTheDailyBudgetIsSpentAndResetsAtMidnightUtc) {
  FakeClock clock;
  clock.set_wall(late_evening());
  BudgetBook book(clock);
  Budget b{.usd_day = 1.0, .usd_month = {}};
  EXPECT_TRUE(book.check("p:a", b).ok);
  book.charge("p:a", 999'999);
  EXPECT_TRUE(book.check("p:a", b).ok);
  book.charge("p:a", 1);
  auto c = book.check("p:a", b);
  EXPECT_FALSE(c.ok);
  EXPECT_STREQ(c.period, "day");
  EXPECT_EQ(c.spent_micros, 1'000'000);
  EXPECT_EQ(c.limit_micros, 1'000'000);
  EXPECT_EQ(c.resets_in.count(), 3600);
  EXPECT_TRUE(book.check("p:other", b).ok) << "budgets are per id";
  clock.advance(sc::hours(1));
  EXPECT_TRUE(book.check("p:a", b).ok);
  EXPECT_EQ(book.spend("p:a").day_micros, 0);
  EXPECT_EQ(book.spend("p:a").month_micros, 1'000'000);
}

TEST(BudgetBook, MonthlyBudgetSpansDaysAndResetsOnTheFirst) {
  FakeClock clock;
  clock.set_wall(sc::sys_days{sc::year{2026} / 11 / 29});
  BudgetBook book(clock);
  Budget b{.usd_day = {}, .usd_month = 5.0};
  book.seed("p:a", 0, 4'000'000);
  book.charge("p:a", 1'000'000);
  auto c = book.check("p:a", b);
  EXPECT_FALSE(c.ok);
  EXPECT_STREQ(c.period, "month");
  EXPECT_EQ(c.resets_in.count(), 2 * 86'400);
  clock.advance(sc::hours(48));  // December 1st
  EXPECT_TRUE(book.check("p:a", b).ok);
}

TEST(BudgetBook, PeriodsAreUtcDaysAndMonths) {
  auto t = late_evening();
  auto p = Period::of(t);
  EXPECT_EQ(p.month, 2026 * 12 + 10);
  EXPECT_EQ(Period::start_of_day(t), sc::sys_days{sc::year{2026} / 11 / 26});
  EXPECT_EQ(Period::start_of_month(t), sc::sys_days{sc::year{2026} / 11 / 1});
  EXPECT_EQ(usd_to_micros(0.000001), 1);
  EXPECT_EQ(usd_to_micros(12.5), 12'500'000);
}

}  // namespace
}  // namespace sluice::stages::budget
