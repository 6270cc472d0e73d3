#include "metrics/registry.hpp"

#include <stdexcept>

namespace sluice::metrics {

Registry::Registry() = default;
Registry::~Registry() = default;

template <class F>
F& Registry::add(std::unique_ptr<F> family) {
  auto names = family->sample_names();
  std::lock_guard lock(mu_);
  for (const auto& n : names) {
    if (sample_names_.contains(n)) {
      throw std::invalid_argument("metric " + family->name() + ": the name " + n + " is already registered");
    }
  }
  sample_names_.insert(names.begin(), names.end());
  F& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

CounterFamily& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  return add(std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names)));
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return add(std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(label_names)));
}

HistogramFamily& Registry::histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                     std::vector<double> buckets) {
  return add(std::make_unique<HistogramFamily>(std::move(name), std::move(help), std::move(label_names),
                                               std::move(buckets)));
}

void Registry::gauge_callback(std::string name, std::string help, std::vector<std::string> label_names,
                              SampleFn fn) {
  add(std::make_unique<CallbackFamily>(CallbackFamily::Type::Gauge, std::move(name), std::move(help),
                                       std::move(label_names), std::move(fn)));
}

void Registry::counter_callback(std::string name, std::string help, std::vector<std::string> label_names,
                                SampleFn fn) {
  add(std::make_unique<CallbackFamily>(CallbackFamily::Type::Counter, std::move(name), std::move(help),
                                       std::move(label_names), std::move(fn)));
}

std::string Registry::render() const {
  std::vector<const Family*> families;
  {
    std::lock_guard lock(mu_);
    families.reserve(families_.size());
    for (const auto& f : families_) families.push_back(f.get());
  }
  std::string out;
  out.reserve(families.size() * 256);
  for (const Family* f : families) f->render(out);
  return out;
}

}  // namespace sluice::metrics
