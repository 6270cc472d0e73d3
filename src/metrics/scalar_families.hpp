#pragma once
// Counter and gauge families: one double per label-value list. Series appear on first use.
// Thread-safe: one mutex per family around its series map, held only for a lookup (usually a
// compare with a series used just before: RecentSeries in family.hpp) and an add, so concurrent
// updates from many request threads stay cheap (well under a microsecond uncontended). A wrong
// number of label values is a programmer error: std::invalid_argument.

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "metrics/family.hpp"

namespace sluice::metrics {

// The series map shared by counters and gauges.
class ScalarFamily : public Family {
 public:
  // The series' value; 0 for a series never updated.
  double value(const LabelValues& values) const;
  void render(std::string& out) const override;

 protected:
  using Family::Family;
  // Runs `f(double&)` on the series under the family's lock, creating it at 0 if needed.
  template <class F>
  void update(const LabelValues& values, F&& f) {
    check_arity(values);
    std::lock_guard lock(mu_);
    auto* e = recent_.find(values);
    if (e == nullptr) {
      auto it = series_.find(values);
      if (it == series_.end()) it = series_.emplace(values.to_labels(), 0.0).first;
      e = &*it;
      recent_.remember(e);
    }
    f(e->second);
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<Labels, double, LabelsHash, LabelsEqual> series_;  // never shrinks
  RecentSeries<double> recent_;
};

// A monotonic count. The name must end in _total (the exposition's convention for counters).
class CounterFamily final : public ScalarFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  // Adds `v`; a negative or NaN increment is ignored, as counters never go down.
  void inc(const LabelValues& values, double v = 1);
};

// A value that goes up and down.
class GaugeFamily final : public ScalarFamily {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names);
  void set(const LabelValues& values, double v);
  void add(const LabelValues& values, double v);  // negative to subtract
};

}  // namespace sluice::metrics
