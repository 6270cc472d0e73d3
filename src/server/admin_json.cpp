#include "server/admin_json.hpp"

#include <charconv>
#include <chrono>

#include <boost/json/array.hpp>

namespace sluice::server {

namespace json = boost::json;

namespace {

template <class T>
json::value opt(const std::optional<T>& v) {
  if (!v) return nullptr;
  return json::value(*v);
}

void add_sums(json::object& o, const ledger::UsageBucket& b) {
  o["requests"] = b.requests;
  o["errors"] = b.errors;
  o["input_tokens"] = b.input_tokens;
  o["output_tokens"] = b.output_tokens;
  o["cache_creation_tokens"] = b.cache_creation_tokens;
  o["cache_read_tokens"] = b.cache_read_tokens;
  o["server_tool_uses"] = b.server_tool_uses;
  o["cost_micros"] = b.cost_micros;
  o["cost_usd"] = static_cast<double>(b.cost_micros) / 1e6;
  o["estimated"] = b.estimated;
}

}  // namespace

json::object limits_json(const keys::Limits& l) {
  return {{"rpm", opt(l.rpm)},
          {"tpm", opt(l.tpm)},
          {"concurrency", opt(l.concurrency)},
          {"budget_usd_day", opt(l.budget_usd_day)},
          {"budget_usd_month", opt(l.budget_usd_month)}};
}

json::object key_json(const keys::KeyRecord& k) {
  return {{"id", k.id},
          {"project", k.project},
          {"name", k.name},
          {"hint", k.hint},
          {"limits", limits_json(k.limits)},
          {"created_ms", k.created_ms},
          {"revoked_ms", opt(k.revoked_ms)}};
}

json::object project_json(const keys::ProjectRecord& p) {
  return {{"name", p.name}, {"limits", limits_json(p.limits)}, {"created_ms", p.created_ms}};
}

std::string read_limits(const json::object& o, keys::Limits& out) {
  auto number = [&](const char* field, std::optional<double>& into) -> std::string {
    const auto* v = o.if_contains(field);
    if (!v) return {};
    if (v->is_null()) {
      into.reset();
      return {};
    }
    if (!v->is_number()) return std::string(field) + ": expected a number";
    double d = v->to_number<double>();
    if (!(d >= 0) || d > 1e15) return std::string(field) + ": must be a non-negative number";
    into = d;
    return {};
  };
  for (auto [field, slot] : {std::pair{"rpm", &out.rpm}, std::pair{"tpm", &out.tpm},
                             std::pair{"budget_usd_day", &out.budget_usd_day},
                             std::pair{"budget_usd_month", &out.budget_usd_month}}) {
    if (auto e = number(field, *slot); !e.empty()) return e;
  }
  std::optional<double> conc = out.concurrency ? std::optional<double>(*out.concurrency) : std::nullopt;
  if (auto e = number("concurrency", conc); !e.empty()) return e;
  if (conc && (*conc != static_cast<double>(static_cast<int>(*conc)) || *conc > 1e6)) {
    return "concurrency: must be a whole number";
  }
  out.concurrency = conc ? std::optional<int>(static_cast<int>(*conc)) : std::nullopt;
  return {};
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: "+" is a space, "%XY" a byte; a malformed
// escape is kept as it is.
std::string form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

// Hand-written rather than Boost.URL's parse_query: with the Debian 1.81 library, decoding its
// params returned strings with stray bytes under concurrent requests (found by the dashboard's
// endpoint tests).
QueryParams query_params(std::string_view query) {
  QueryParams out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      out[form_decode(pair)] = std::string();
    } else {
      out[form_decode(pair.substr(0, eq))] = form_decode(pair.substr(eq + 1));
    }
  }
  return out;
}

std::optional<std::int64_t> parse_time(std::string_view s) {
  if (s.size() == 10 && s[4] == '-' && s[7] == '-') {
    int y = 0;
    unsigned m = 0, d = 0;
    auto ok = [](auto r, const char* end) { return r.ec == std::errc{} && r.ptr == end; };
    if (!ok(std::from_chars(s.data(), s.data() + 4, y), s.data() + 4) ||
        !ok(std::from_chars(s.data() + 5, s.data() + 7, m), s.data() + 7) ||
        !ok(std::from_chars(s.data() + 8, s.data() + 10, d), s.data() + 10)) {
      return std::nullopt;
    }
    std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    if (!ymd.ok()) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::sys_days{ymd}.time_since_epoch()).count();
  }
  std::int64_t ms = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), ms);
  if (s.empty() || r.ec != std::errc{} || r.ptr != s.data() + s.size() || ms < 0) return std::nullopt;
  return ms;
}

std::optional<ledger::GroupBy> parse_group_by(std::string_view s) {
  if (s == "day") return ledger::GroupBy::Day;
  if (s == "model") return ledger::GroupBy::Model;
  if (s == "key") return ledger::GroupBy::Key;
  if (s == "project") return ledger::GroupBy::Project;
  return std::nullopt;
}

const char* group_by_name(ledger::GroupBy g) {
  switch (g) {
    case ledger::GroupBy::Day: return "day";
    case ledger::GroupBy::Model: return "model";
    case ledger::GroupBy::Key: return "key";
    case ledger::GroupBy::Project: return "project";
  }
  return "day";
}

json::object usage_report(ledger::UsageReader& reader, const ledger::UsageFilter& f) {
  auto buckets = reader.query(f);
  json::array data;
  ledger::UsageBucket total;
  for (const auto& b : buckets) {
    json::object o{{"project", b.project}, {group_by_name(f.by), b.group}};
    add_sums(o, b);
    data.push_back(std::move(o));
    total.add(b);
  }
  json::object totals;
  add_sums(totals, total);
  json::object report{{"by", group_by_name(f.by)},
                      {"since_ms", f.since_ms},
                      {"until_ms", opt(f.until_ms)},
                      {"project", opt(f.project)},
                      {"key", opt(f.key_id)},
                      {"data", std::move(data)},
                      {"totals", std::move(totals)}};
  return report;
}

}  // namespace sluice::server
