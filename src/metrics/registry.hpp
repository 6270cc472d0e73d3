#pragma once
// The gateway's Prometheus registry: metric families registered at start-up, updated from any
// thread, rendered for GET /metrics in the text exposition format 0.0.4 (exposition.hpp has the
// content type). Families render in registration order, each family's series sorted by their
// label values; a family with no series renders only its HELP and TYPE lines.
//
// Thread-safety: registration, updates and render() may all run concurrently (each family has
// its own lock; the registry's lock guards only its list of families). Families live as long
// as the registry, so the references returned may be kept and used without lookups.

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "metrics/callback_family.hpp"
#include "metrics/histogram.hpp"
#include "metrics/scalar_families.hpp"

namespace sluice::metrics {

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each throws std::invalid_argument for an invalid metric or label name, a counter not named
  // *_total, bad histogram buckets, or a name whose samples collide with an existing family's.
  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> label_names);
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names);
  HistogramFamily& histogram(std::string name, std::string help, std::vector<std::string> label_names,
                             std::vector<double> buckets);
  // A gauge computed at scrape time (breaker states, queue depths): `fn` appends the samples.
  void gauge_callback(std::string name, std::string help, std::vector<std::string> label_names, SampleFn fn);
  // A counter kept elsewhere and read at scrape time (e.g. alerts published, by kind).
  void counter_callback(std::string name, std::string help, std::vector<std::string> label_names, SampleFn fn);

  // The whole exposition.
  std::string render() const;

 private:
  template <class F>
  F& add(std::unique_ptr<F> family);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
  std::set<std::string, std::less<>> sample_names_;
};

}  // namespace sluice::metrics
