#pragma once
// A histogram family: per series, counts of observations in fixed buckets (upper bounds chosen
// at creation; +Inf is implied), their sum and their count. An observation equal to a bound
// lands in that bound's bucket (Prometheus's `le`, "less than or equal").
// Thread-safe: one mutex per family, as in scalar_families.hpp.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "metrics/family.hpp"

namespace sluice::metrics {

class HistogramFamily final : public Family {
 public:
  // `buckets`: finite upper bounds in strictly increasing order; a trailing +Inf is accepted
  // and dropped. Throws std::invalid_argument otherwise, or when a label is named "le".
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> buckets);

  // Records one observation; NaN is ignored.
  void observe(const LabelValues& values, double v);

  struct Snapshot {
    std::vector<double> bounds;             // the finite upper bounds, ascending
    std::vector<std::uint64_t> cumulative;  // observations <= each bound, then the +Inf total
    double sum = 0;
    std::uint64_t count = 0;
  };
  // The series' state; all zeros for a series never observed.
  Snapshot snapshot(const LabelValues& values) const;

  std::vector<std::string> sample_names() const override;
  void render(std::string& out) const override;

 private:
  struct Series {
    std::vector<std::uint64_t> counts;  // per bucket, not cumulative; the last one is +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot to_snapshot(const Series* s) const;

  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::unordered_map<Labels, Series, LabelsHash, LabelsEqual> series_;  // never shrinks
  RecentSeries<Series> recent_;
};

}  // namespace sluice::metrics
