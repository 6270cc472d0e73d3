#include "keys/records.hpp"

#include <cmath>

namespace sluice::keys {

bool valid_project_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_limits(const Limits& limits) {
  auto ok = [](const std::optional<double>& v) { return !v || (std::isfinite(*v) && *v >= 0); };
  return ok(limits.rpm) && ok(limits.tpm) && ok(limits.budget_usd_day) && ok(limits.budget_usd_month) &&
         (!limits.concurrency || *limits.concurrency >= 0);
}

}  // namespace sluice::keys
