#include "alerts/alert.hpp"

#include <charconv>
#include <ctime>

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

namespace sluice::alerts {

namespace {
std::string quoted(const std::string& v) { return boost::json::serialize(boost::json::string_view(v.data(), v.size())); }

std::string iso8601(std::int64_t ts_ms) {
  std::time_t secs = static_cast<std::time_t>(ts_ms / 1000);
  int ms = static_cast<int>(ts_ms % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

// The shortest text that reads back as `v` (Boost.JSON would print 1000 as 1E3).
std::string number(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
}  // namespace

std::string Alert::to_json() const {
  std::string j;
  j.reserve(320 + message.size());
  j += "{\"kind\":" + quoted(kind);
  j += ",\"project\":" + quoted(project);
  j += ",\"key_id\":" + quoted(key_id);
  j += ",\"request_id\":" + quoted(request_id);
  j += ",\"model\":" + quoted(model);
  j += ",\"tokens\":" + std::to_string(tokens);
  j += ",\"threshold\":" + std::to_string(threshold);
  j += ",\"baseline\":" + number(baseline);
  j += ",\"ts_ms\":" + std::to_string(ts_ms);
  j += ",\"ts\":\"" + iso8601(ts_ms) + "\"";
  j += ",\"message\":" + quoted(message);
  j += '}';
  return j;
}

}  // namespace sluice::alerts
