#include "server/headers.hpp"

#include <array>
#include <cctype>

namespace sluice::server {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether `name` appears as a token of the Connection header's comma-separated list.
bool named_in_connection(std::string_view name, const bhttp::fields& message) {
  for (auto it = message.find(bhttp::field::connection); it != message.end() && it->name() == bhttp::field::connection; ++it) {
    std::string_view v{it->value().data(), it->value().size()};
    while (!v.empty()) {
      auto comma = v.find(',');
      auto token = trim(v.substr(0, comma));
      if (iequals(token, name)) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::string_view media_type(std::string_view content_type) {
  return trim(content_type.substr(0, content_type.find(';')));
}

}  // namespace

bool is_hop_by_hop(std::string_view name, const bhttp::fields& message) {
  static constexpr std::array<std::string_view, 9> kHopByHop = {
      "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
      "upgrade", "proxy-authorization", "proxy-authenticate"};
  for (auto h : kHopByHop) {
    if (iequals(name, h)) return true;
  }
  return named_in_connection(name, message);
}

bhttp::fields upstream_request_headers(const bhttp::fields& client, std::string_view provider_key) {
  bhttp::fields out;
  for (const auto& f : client) {
    std::string_view name{f.name_string().data(), f.name_string().size()};
    if (is_hop_by_hop(name, client)) continue;
    switch (f.name()) {
      case bhttp::field::host:
      case bhttp::field::content_length:
      case bhttp::field::expect:
      case bhttp::field::accept_encoding:
        continue;
      case bhttp::field::authorization:
        if (!provider_key.empty()) continue;
        break;
      default:
        if (!provider_key.empty() && iequals(name, "x-api-key")) continue;
        break;
    }
    out.insert(f.name_string(), f.value());
  }
  out.set(bhttp::field::accept_encoding, "identity");
  if (!provider_key.empty()) out.set("x-api-key", provider_key);
  return out;
}

void copy_response_headers(const bhttp::fields& upstream, bhttp::fields& out) {
  for (const auto& f : upstream) {
    std::string_view name{f.name_string().data(), f.name_string().size()};
    if (f.name() == bhttp::field::content_length || is_hop_by_hop(name, upstream)) continue;
    out.insert(f.name_string(), f.value());
  }
}

bool is_json_content_type(std::string_view content_type) {
  return iequals(media_type(content_type), "application/json");
}

bool is_event_stream(std::string_view content_type) {
  return iequals(media_type(content_type), "text/event-stream");
}

}  // namespace sluice::server
