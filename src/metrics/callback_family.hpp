#pragma once
// A family whose samples are computed at scrape time by a callback, for state that lives
// elsewhere: circuit-breaker states, queue depths (gauges), or counts kept by another
// component such as the alert notifier (counters).
// Thread-safe as far as the callback is: render() calls it on the scraping thread with no
// registry lock held, so it may take its owner's locks but must not call Registry::render().

#include <functional>
#include <string>
#include <vector>

#include "metrics/family.hpp"

namespace sluice::metrics {

// Appends (label values, value) samples; each label-value list must appear at most once.
using SampleFn = std::function<void(std::vector<Sample>&)>;

class CallbackFamily final : public Family {
 public:
  enum class Type { Gauge, Counter };
  // A counter's name must end in _total. Throws std::invalid_argument on bad names.
  CallbackFamily(Type type, std::string name, std::string help, std::vector<std::string> label_names,
                 SampleFn fn);

  // Throws std::invalid_argument when the callback returns a sample with the wrong number of
  // label values.
  void render(std::string& out) const override;

 private:
  SampleFn fn_;
};

}  // namespace sluice::metrics
