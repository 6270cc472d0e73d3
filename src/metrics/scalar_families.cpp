#include "metrics/scalar_families.hpp"

#include <cmath>
#include <stdexcept>

namespace sluice::metrics {

double ScalarFamily::value(const LabelValues& values) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0.0 : it->second;
}

void ScalarFamily::render(std::string& out) const {
  std::vector<Sample> samples;
  {
    std::lock_guard lock(mu_);
    samples.assign(series_.begin(), series_.end());
  }
  render_header(out);
  render_samples(out, samples);
}

namespace {
std::string counter_name(std::string name) {
  if (!name.ends_with("_total")) throw std::invalid_argument("counter " + name + ": name must end in _total");
  return name;
}
}  // namespace

CounterFamily::CounterFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : ScalarFamily(counter_name(std::move(name)), std::move(help), std::move(label_names), "counter") {}

void CounterFamily::inc(const LabelValues& values, double v) {
  if (!(v >= 0)) return;  // also false for NaN
  update(values, [v](double& x) { x += v; });
}

GaugeFamily::GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : ScalarFamily(std::move(name), std::move(help), std::move(label_names), "gauge") {}

void GaugeFamily::set(const LabelValues& values, double v) {
  update(values, [v](double& x) { x = v; });
}

void GaugeFamily::add(const LabelValues& values, double v) {
  update(values, [v](double& x) { x += v; });
}

}  // namespace sluice::metrics
