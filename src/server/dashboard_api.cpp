#include "server/dashboard_api.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <chrono>
#include <map>
#include <set>
#include <stdexcept>

#include <boost/json/array.hpp>

#include "ledger/failure_query.hpp"
#include "ledger/usage_query.hpp"

namespace sluice::server {

namespace json = boost::json;
namespace sc = std::chrono;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kMaxDays = 366;

// A whole number in [lo, hi], or `fallback` when absent.
std::int64_t int_param(const QueryParams& q, const char* name, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi) {
  auto it = q.find(name);
  if (it == q.end()) return fallback;
  const std::string& s = it->second;
  std::int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc{} || r.ptr != s.data() + s.size() || v < lo || v > hi) {
    throw std::invalid_argument(std::string(name) + ": a whole number from " + std::to_string(lo) + " to " +
                                std::to_string(hi));
  }
  return v;
}

std::int64_t day_param(const QueryParams& q, const char* name, std::int64_t fallback) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty()) return fallback;
  auto t = it->second.size() == 10 ? parse_time(it->second) : std::nullopt;
  if (!t) throw std::invalid_argument(std::string(name) + ": a UTC date as YYYY-MM-DD");
  return *t;
}

std::string day_name(std::int64_t day_ms) {
  sc::year_month_day ymd{sc::sys_days{sc::days{day_ms / kDayMs}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

// Comma-separated project names, each checked.
std::vector<std::string> project_list(const QueryParams& q) {
  std::vector<std::string> out;
  auto it = q.find("project");
  if (it == q.end() || it->second.empty()) return out;
  std::string_view rest = it->second;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string name(rest.substr(0, comma));
    if (!keys::valid_project_name(name)) {
      throw std::invalid_argument("project: comma-separated names of 1 to 64 characters of A-Z a-z 0-9 . _ -");
    }
    out.push_back(std::move(name));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

json::value usd(std::int64_t micros) { return static_cast<double>(micros) / 1e6; }

json::value opt_number(const std::optional<double>& v) {
  if (!v) return nullptr;
  return *v;
}

struct Series {
  std::vector<std::int64_t> requests, errors, input, output, cache_creation, cache_read, cost;
  explicit Series(std::size_t days)
      : requests(days), errors(days), input(days), output(days), cache_creation(days), cache_read(days), cost(days) {}
};

json::array to_array(const std::vector<std::int64_t>& v) { return json::array(v.begin(), v.end()); }

json::object sums(const ledger::UsageBucket& b) {
  return {{"requests", b.requests},
          {"errors", b.errors},
          {"input_tokens", b.input_tokens},
          {"output_tokens", b.output_tokens},
          {"cache_creation_tokens", b.cache_creation_tokens},
          {"cache_read_tokens", b.cache_read_tokens},
          {"cost_micros", b.cost_micros},
          {"cost_usd", usd(b.cost_micros)}};
}

// {"limit":L,"used":U,"remaining":R} for a rate limit, or null when there is none.
json::value rate_use(const std::optional<double>& limit, const std::optional<double>& remaining) {
  if (!limit) return nullptr;
  double left = remaining.value_or(*limit);
  return json::object{{"limit", *limit}, {"used", std::max(0.0, *limit - left)}, {"remaining", left}};
}

json::value budget_use(const std::optional<double>& limit_usd, std::int64_t spent_micros) {
  json::object o{{"spent_usd", usd(spent_micros)}, {"limit_usd", opt_number(limit_usd)}, {"left_usd", nullptr}};
  if (limit_usd) o["left_usd"] = std::max(0.0, *limit_usd - static_cast<double>(spent_micros) / 1e6);
  return o;
}

// How much of `limits` is in use for limiter `id` and budget `id`.
json::object usage_of(Accounting& acc, const std::string& id, const keys::Limits& limits) {
  stages::ratelimit::Limits rate{limits.rpm, limits.tpm, limits.concurrency};
  stages::ratelimit::KeyLimiter::Usage now;
  // A limiter made for other limits (changed since its last request) is replaced on the next
  // request and starts full: report it as full.
  if (auto limiter = acc.limiters().find(id); limiter && limiter->limits() == rate) now = limiter->usage();
  json::value concurrency = nullptr;
  if (limits.concurrency) concurrency = json::object{{"limit", *limits.concurrency}, {"in_flight", now.in_flight}};
  auto spend = acc.budgets().spend(id);
  return {{"rpm", rate_use(limits.rpm, now.rpm_remaining)},
          {"tpm", rate_use(limits.tpm, now.tpm_remaining)},
          {"concurrency", std::move(concurrency)},
          {"budget_day", budget_use(limits.budget_usd_day, spend.day_micros)},
          {"budget_month", budget_use(limits.budget_usd_month, spend.month_micros)}};
}

}  // namespace

json::object daily_usage(ledger::UsageReader& db, const std::vector<keys::ProjectRecord>& known, const QueryParams& q,
                         std::int64_t now_ms) {
  const std::int64_t today = now_ms - now_ms % kDayMs;
  const std::int64_t to = day_param(q, "to", today);
  const std::int64_t from = day_param(q, "from", to - 6 * kDayMs);
  if (from > to) throw std::invalid_argument("from: must not be after to");
  const std::int64_t days = (to - from) / kDayMs + 1;
  if (days > kMaxDays) throw std::invalid_argument("from, to: at most " + std::to_string(kMaxDays) + " days");
  auto wanted = project_list(q);

  ledger::UsageFilter f;
  f.since_ms = from;
  f.until_ms = to + kDayMs;
  f.by = ledger::GroupBy::Day;
  if (wanted.size() == 1) f.project = wanted.front();
  auto buckets = db.query(f);

  // Filter choices: the key store's projects and every project with use in the range.
  std::set<std::string> choices;
  for (const auto& p : known) choices.insert(p.name);
  {
    ledger::UsageFilter all = f;
    all.project.reset();
    all.by = ledger::GroupBy::Project;
    for (const auto& b : db.query(all)) choices.insert(b.project);
  }

  json::array day_names;
  std::map<std::string, std::int64_t> index;
  for (std::int64_t i = 0; i < days; ++i) {
    auto name = day_name(from + i * kDayMs);
    index[name] = i;
    day_names.push_back(json::string(name));
  }
  std::map<std::string, Series> series;  // sorted by project
  std::map<std::string, ledger::UsageBucket> project_totals;
  for (const auto& p : wanted) series.try_emplace(p, static_cast<std::size_t>(days));
  ledger::UsageBucket total;
  for (const auto& b : buckets) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), b.project) == wanted.end()) continue;
    auto day = index.find(b.group);
    if (day == index.end()) continue;  // cannot happen: the query is bounded by the range
    auto& s = series.try_emplace(b.project, static_cast<std::size_t>(days)).first->second;
    auto i = static_cast<std::size_t>(day->second);
    s.requests[i] += b.requests;
    s.errors[i] += b.errors;
    s.input[i] += b.input_tokens;
    s.output[i] += b.output_tokens;
    s.cache_creation[i] += b.cache_creation_tokens;
    s.cache_read[i] += b.cache_read_tokens;
    s.cost[i] += b.cost_micros;
    project_totals[b.project].add(b);
    total.add(b);
  }
  json::array projects;
  for (const auto& [name, s] : series) {
    json::array cost_usd;
    for (auto c : s.cost) cost_usd.push_back(usd(c));
    projects.push_back(json::object{{"project", name},
                                    {"requests", to_array(s.requests)},
                                    {"errors", to_array(s.errors)},
                                    {"input_tokens", to_array(s.input)},
                                    {"output_tokens", to_array(s.output)},
                                    {"cache_creation_tokens", to_array(s.cache_creation)},
                                    {"cache_read_tokens", to_array(s.cache_read)},
                                    {"cost_micros", to_array(s.cost)},
                                    {"cost_usd", std::move(cost_usd)},
                                    {"totals", sums(project_totals[name])}});
  }
  json::array filter;
  for (const auto& w : wanted) filter.push_back(json::string(w));
  return {{"from", day_name(from)},
          {"to", day_name(to)},
          {"days", std::move(day_names)},
          {"filter", std::move(filter)},
          {"available_projects", json::array(choices.begin(), choices.end())},
          {"projects", std::move(projects)},
          {"totals", sums(total)}};
}

json::object limits_report(Accounting& acc) {
  json::array keys_out;
  for (const auto& k : acc.directory().list_keys(false)) {
    keys_out.push_back(json::object{{"id", k.id},
                                    {"project", k.project},
                                    {"name", k.name},
                                    {"hint", k.hint},
                                    {"created_ms", k.created_ms},
                                    {"limits", limits_json(k.limits)},
                                    {"usage", usage_of(acc, "k:" + k.id, k.limits)}});
  }
  json::array projects_out;
  for (const auto& p : acc.directory().list_projects()) {
    projects_out.push_back(json::object{{"name", p.name},
                                        {"created_ms", p.created_ms},
                                        {"limits", limits_json(p.limits)},
                                        {"usage", usage_of(acc, "p:" + p.name, p.limits)}});
  }
  return {{"keys", std::move(keys_out)}, {"projects", std::move(projects_out)}};
}

json::object alerts_report(const alerts::RecentAlerts& recent, const QueryParams& q) {
  auto limit = int_param(q, "limit", 50, 1, 1000);
  json::array data;
  for (const auto& a : recent.latest(static_cast<std::size_t>(limit))) {
    data.push_back(json::object{{"kind", a.kind},
                                {"project", a.project},
                                {"key_id", a.key_id},
                                {"request_id", a.request_id},
                                {"model", a.model},
                                {"tokens", a.tokens},
                                {"threshold", a.threshold},
                                {"baseline", a.baseline},
                                {"ts_ms", a.ts_ms},
                                {"message", a.message}});
  }
  return {{"data", std::move(data)}, {"total", recent.total()}, {"kept", recent.capacity()}};
}

json::object failures_report(ledger::UsageReader& db, const QueryParams& q) {
  ledger::FailureFilter f;
  f.limit = static_cast<int>(int_param(q, "limit", 50, 1, 500));
  auto projects = project_list(q);
  if (projects.size() > 1) throw std::invalid_argument("project: one project name");
  if (!projects.empty()) f.project = projects.front();
  if (auto it = q.find("since"); it != q.end() && !it->second.empty()) {
    auto t = parse_time(it->second);
    if (!t) throw std::invalid_argument("since: YYYY-MM-DD or unix milliseconds");
    f.since_ms = *t;
  }
  json::array data;
  for (const auto& r : db.recent_failures(f)) {
    data.push_back(json::object{{"ts_ms", r.ts_ms},
                                {"request_id", r.request_id},
                                {"project", r.project},
                                {"key_id", r.key_id},
                                {"model", r.model},
                                {"provider", r.provider},
                                {"route", r.route},
                                {"status", r.status},
                                {"error", r.error},
                                {"stream", r.stream},
                                {"attempts", r.attempts},
                                {"latency_ms", r.latency_ms},
                                {"ttft_ms", opt_number(r.ttft_ms)},
                                {"input_tokens", r.input_tokens},
                                {"output_tokens", r.output_tokens},
                                {"cost_micros", r.cost_micros}});
  }
  return {{"data", std::move(data)}};
}

json::object live_report(const metrics::RecentWindow& live, const QueryParams& q, std::int64_t active_streams,
                         const ledger::Ledger::Stats& ledger) {
  auto window = int_param(q, "window", 60, 1, live.max_window().count());
  auto s = live.summary(sc::seconds(window));
  return {{"window_s", s.window.count()},
          {"requests", s.requests},
          {"requests_per_second", s.requests_per_second},
          {"errors", s.errors},
          {"error_rate", s.error_rate},
          {"latency_ms", json::object{{"p50", opt_number(s.latency_p50_ms)},
                                      {"p99", opt_number(s.latency_p99_ms)},
                                      {"samples", s.latency_samples}}},
          {"ttft_ms", json::object{{"p50", opt_number(s.ttfb_p50_ms)},
                                   {"p99", opt_number(s.ttfb_p99_ms)},
                                   {"samples", s.ttfb_samples}}},
          {"active_streams", active_streams},
          {"ledger", json::object{{"queued", ledger.queued}, {"written", ledger.written}, {"dropped", ledger.dropped}}}};
}

}  // namespace sluice::server
