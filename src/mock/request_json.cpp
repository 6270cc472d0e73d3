#include "mock/request_json.hpp"

#include <cmath>

#include <boost/json/parser.hpp>

#include "mock/json_text.hpp"

namespace sluice::mock {

std::optional<std::string> parse_json_body(std::string_view body, boost::json::value& out) {
  boost::json::parse_options opts;
  opts.max_depth = 256;  // tool schemas nest deeper than Boost's default of 32
  boost::json::parser p(boost::json::storage_ptr(), opts);
  p.reset(out.storage());
  boost::system::error_code ec;
  const std::size_t n = p.write_some(body.data(), body.size(), ec);
  if (!ec && n != body.size()) {
    // Only whitespace may follow the value.
    if (!trim(body.substr(n)).empty()) ec = boost::json::error::extra_data;
  }
  if (ec) {
    std::string msg = "Invalid JSON in request body at byte ";
    append_uint(msg, n);
    msg.append(": ");
    msg.append(ec.message());
    return msg;
  }
  out = p.release();
  return std::nullopt;
}

std::optional<std::int64_t> as_integer(const boost::json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    const auto u = v.get_uint64();
    return u > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(u);
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e18) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::string_view string_at(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (v && v->is_string()) return v->get_string();
  return {};
}

}  // namespace sluice::mock
