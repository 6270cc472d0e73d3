#include "metrics/callback_family.hpp"

#include <stdexcept>

namespace sluice::metrics {

namespace {
std::string checked_name(CallbackFamily::Type type, std::string name) {
  if (type == CallbackFamily::Type::Counter && !name.ends_with("_total")) {
    throw std::invalid_argument("counter " + name + ": name must end in _total");
  }
  return name;
}
}  // namespace

CallbackFamily::CallbackFamily(Type type, std::string name, std::string help, std::vector<std::string> label_names,
                               SampleFn fn)
    : Family(checked_name(type, std::move(name)), std::move(help), std::move(label_names),
             type == Type::Counter ? "counter" : "gauge"),
      fn_(std::move(fn)) {
  if (!fn_) throw std::invalid_argument("metric " + this->name() + ": no callback");
}

void CallbackFamily::render(std::string& out) const {
  std::vector<Sample> samples;
  fn_(samples);
  for (const auto& s : samples) check_arity(s.first);
  render_header(out);
  render_samples(out, samples);
}

}  // namespace sluice::metrics
