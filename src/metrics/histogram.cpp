#include "metrics/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "metrics/exposition.hpp"

namespace sluice::metrics {

namespace {
std::vector<double> checked_bounds(const std::string& name, std::vector<double> b) {
  if (!b.empty() && b.back() == INFINITY) b.pop_back();
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (!std::isfinite(b[i]) || (i > 0 && !(b[i - 1] < b[i]))) {
      throw std::invalid_argument("histogram " + name + ": buckets must be finite and strictly increasing");
    }
  }
  return b;
}

std::vector<std::string> checked_labels(const std::string& name, std::vector<std::string> labels) {
  if (std::find(labels.begin(), labels.end(), "le") != labels.end()) {
    throw std::invalid_argument("histogram " + name + ": label name 'le' is reserved");
  }
  return labels;
}
}  // namespace

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> buckets)
    : Family(name, std::move(help), checked_labels(name, std::move(label_names)), "histogram"),
      bounds_(checked_bounds(name, std::move(buckets))) {}

void HistogramFamily::observe(const LabelValues& values, double v) {
  check_arity(values);
  if (std::isnan(v)) return;
  auto bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  std::lock_guard lock(mu_);
  auto* e = recent_.find(values);
  if (e == nullptr) {
    auto it = series_.find(values);
    if (it == series_.end()) {
      it = series_.emplace(values.to_labels(), Series{std::vector<std::uint64_t>(bounds_.size() + 1, 0), 0, 0}).first;
    }
    e = &*it;
    recent_.remember(e);
  }
  Series& s = e->second;
  ++s.counts[bucket];
  s.sum += v;
  ++s.count;
}

HistogramFamily::Snapshot HistogramFamily::to_snapshot(const Series* s) const {
  Snapshot snap;
  snap.bounds = bounds_;
  snap.cumulative.assign(bounds_.size() + 1, 0);
  if (s == nullptr) return snap;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < s->counts.size(); ++i) {
    running += s->counts[i];
    snap.cumulative[i] = running;
  }
  snap.sum = s->sum;
  snap.count = s->count;
  return snap;
}

HistogramFamily::Snapshot HistogramFamily::snapshot(const LabelValues& values) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  return to_snapshot(it == series_.end() ? nullptr : &it->second);
}

std::vector<std::string> HistogramFamily::sample_names() const {
  return {name(), name() + "_bucket", name() + "_sum", name() + "_count"};
}

void HistogramFamily::render(std::string& out) const {
  std::vector<std::pair<Labels, Series>> all;
  {
    std::lock_guard lock(mu_);
    all.assign(series_.begin(), series_.end());
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  render_header(out);
  for (const auto& [values, s] : all) {
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < s.counts.size(); ++i) {
      running += s.counts[i];
      std::string le = i < bounds_.size() ? format_value(bounds_[i]) : "+Inf";
      render_series_name(out, "_bucket", values, "le", le);
      out += ' ';
      out += std::to_string(running);
      out += '\n';
    }
    render_series_name(out, "_sum", values);
    out += ' ';
    append_value(out, s.sum);
    out += '\n';
    render_series_name(out, "_count", values);
    out += ' ';
    out += std::to_string(s.count);
    out += '\n';
  }
}

}  // namespace sluice::metrics
