#include "alerts/detector.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace sluice::alerts {

namespace {
const Settings& checked(const Settings& s) {
  auto error = settings_error(s);
  if (!error.empty()) throw std::invalid_argument("alerts: " + error);
  return s;
}

std::string format_number(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}
}  // namespace

Detector::Detector(Settings s, const Clock& clock) : settings_(checked(s)), clock_(clock) {}

void Detector::roll(ProjectUsage& u, std::int64_t hour) const {
  if (hour <= u.current_hour) return;  // same hour, or the wall clock stepped back
  const auto n = static_cast<std::int64_t>(u.totals.size());
  u.totals[static_cast<std::size_t>(u.current_hour % n)] = u.current_tokens;
  // Hours with no use in between; after n of them every slot is already 0.
  for (std::int64_t h = u.current_hour + 1; h < hour && h <= u.current_hour + n; ++h) {
    u.totals[static_cast<std::size_t>(h % n)] = 0;
  }
  u.current_hour = hour;
  u.current_tokens = 0;
}

double Detector::baseline(const ProjectUsage& u) const {
  const auto n = static_cast<std::int64_t>(u.totals.size());
  const std::int64_t hours = std::min(n, u.current_hour - u.first_hour);
  if (hours <= 0) return 0;
  double sum = 0;
  for (std::int64_t h = u.current_hour - hours; h < u.current_hour; ++h) {
    sum += static_cast<double>(u.totals[static_cast<std::size_t>(h % n)]);
  }
  return sum / static_cast<double>(hours);
}

Detector::ProjectUsage& Detector::usage_of(const std::string& project, std::int64_t hour) {
  auto [it, inserted] = projects_.try_emplace(project);
  ProjectUsage& u = it->second;
  if (inserted) {
    u.first_hour = hour;
    u.current_hour = hour;
    u.totals.assign(static_cast<std::size_t>(settings_.baseline_hours), 0);
  }
  return u;
}

void Detector::seed(const std::string& project, std::int64_t hour, std::int64_t tokens) {
  std::lock_guard lock(mu_);
  ProjectUsage& u = usage_of(project, hour);
  if (hour < u.current_hour) return;
  roll(u, hour);
  u.current_tokens += std::max<std::int64_t>(tokens, 0);
}

std::vector<Alert> Detector::observe(const std::string& project, const std::string& key_id,
                                     std::string_view request_id, std::string_view model, std::int64_t tokens) {
  using namespace std::chrono;
  const auto since_epoch = clock_.wall_now().time_since_epoch();
  const std::int64_t now_ms = duration_cast<milliseconds>(since_epoch).count();
  const std::int64_t hour = floor<hours>(since_epoch).count();
  tokens = std::max<std::int64_t>(tokens, 0);

  std::vector<Alert> alerts;
  auto make = [&](const char* kind) {
    Alert a;
    a.kind = kind;
    a.project = project;
    a.key_id = key_id;
    a.request_id = request_id;
    a.model = model;
    a.ts_ms = now_ms;
    return a;
  };

  if (settings_.large_request_tokens > 0 && tokens > settings_.large_request_tokens) {
    Alert a = make(kLargeRequest);
    a.tokens = tokens;
    a.threshold = settings_.large_request_tokens;
    a.message = "request " + std::string(request_id) + " of project " + project + " used " + std::to_string(tokens) +
                " tokens, over the single-request threshold of " + std::to_string(a.threshold);
    alerts.push_back(std::move(a));
  }

  std::lock_guard lock(mu_);
  ProjectUsage& u = usage_of(project, hour);
  roll(u, hour);
  u.current_tokens += tokens;

  if (settings_.anomaly_factor <= 0 || u.alerted_hour == u.current_hour) return alerts;
  if (u.current_hour - u.first_hour < settings_.min_history_hours) return alerts;
  if (u.current_tokens <= settings_.anomaly_min_tokens) return alerts;
  const double base = baseline(u);
  if (!(static_cast<double>(u.current_tokens) > settings_.anomaly_factor * base)) return alerts;

  u.alerted_hour = u.current_hour;
  Alert a = make(kUsageAnomaly);
  a.tokens = u.current_tokens;
  a.baseline = base;
  a.threshold = std::max(settings_.anomaly_min_tokens,
                         static_cast<std::int64_t>(std::floor(settings_.anomaly_factor * base)));
  a.message = "project " + project + " used " + std::to_string(a.tokens) + " tokens this hour, over " +
              format_number("%g", settings_.anomaly_factor) + "x its baseline of " +
              format_number("%.0f", base) + " tokens per hour";
  alerts.push_back(std::move(a));
  return alerts;
}

}  // namespace sluice::alerts
