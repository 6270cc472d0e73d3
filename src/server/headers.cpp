#include "server/headers.hpp"

#include <cctype>

#include "http/wire.hpp"
#include "upstream/response_head.hpp"

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

std::string_view media_type(std::string_view content_type) {
  return trim(content_type.substr(0, content_type.find(';')));
}

// A field of any Beast fields type, as string views.
template <class Field>
std::string_view name_of(const Field& f) {
  return {f.name_string().data(), f.name_string().size()};
}
template <class Field>
std::string_view value_of(const Field& f) {
  return {f.value().data(), f.value().size()};
}

}  // namespace

void HopByHop::add_connection_tokens(std::string_view v) {
  while (!v.empty()) {
    auto comma = v.find(',');
    auto token = trim(v.substr(0, comma));
    if (!token.empty() && !iequals(token, "close") && !iequals(token, "keep-alive")) {
      for (char c : token) named_.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      named_.push_back(',');
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
}

bool HopByHop::is(bhttp::field field, std::string_view name) const {
  switch (field) {
    case bhttp::field::connection:
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_connection:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::transfer_encoding:
    case bhttp::field::upgrade:
    case bhttp::field::proxy_authorization:
    case bhttp::field::proxy_authenticate:
      return true;
    default:
      break;
  }
  if (named_.empty()) return false;  // the common case: Connection names nothing else
  std::string_view named = named_;
  while (!named.empty()) {
    auto comma = named.find(',');
    if (iequals(named.substr(0, comma), name)) return true;
    named.remove_prefix(comma + 1);
  }
  return false;
}

void render_upstream_request_headers(const bhttp::fields& client, std::string_view provider_key, std::string& out,
                                     bool drop_client_credentials) {
  HopByHop hop(client);
  bool replace_credentials = !provider_key.empty() || drop_client_credentials;
  for (const auto& f : client) {
    switch (f.name()) {
      case bhttp::field::host:
      case bhttp::field::content_length:
      case bhttp::field::expect:
      case bhttp::field::accept_encoding:
        continue;
      case bhttp::field::authorization:
        if (replace_credentials) continue;
        break;
      case bhttp::field::unknown:
        if (replace_credentials && iequals(name_of(f), "x-api-key")) continue;
        if (iequals(name_of(f).substr(0, 9), "x-sluice-")) continue;  // requests to sluice itself
        break;
      default:
        break;
    }
    if (hop.is(f)) continue;
    http::append_field(out, name_of(f), value_of(f));
  }
  http::append_field(out, "accept-encoding", "identity");
  if (!provider_key.empty()) http::append_field(out, "x-api-key", provider_key);
}

void render_openai_request_headers(const bhttp::fields& client, std::string_view provider_key, std::string& out) {
  HopByHop hop(client);
  for (const auto& f : client) {
    switch (f.name()) {
      case bhttp::field::host:
      case bhttp::field::content_length:
      case bhttp::field::content_type:
      case bhttp::field::expect:
      case bhttp::field::accept_encoding:
      case bhttp::field::accept:
      case bhttp::field::authorization:
        continue;
      case bhttp::field::unknown: {
        auto name = name_of(f);
        if (iequals(name, "x-api-key") || iequals(name.substr(0, 10), "anthropic-") ||
            iequals(name.substr(0, 9), "x-sluice-")) {
          continue;
        }
        break;
      }
      default:
        break;
    }
    if (hop.is(f)) continue;
    http::append_field(out, name_of(f), value_of(f));
  }
  http::append_field(out, "content-type", "application/json");
  http::append_field(out, "accept-encoding", "identity");
  if (!provider_key.empty()) http::append_field(out, "authorization", "Bearer " + std::string(provider_key));
}

namespace {
template <class Fields>
void render_end_to_end(const Fields& upstream, std::string& out) {
  HopByHop hop(upstream);
  for (const auto& f : upstream) {
    if (f.name() == bhttp::field::content_length || hop.is(f)) continue;
    http::append_field(out, name_of(f), value_of(f));
  }
}
}  // namespace

void render_response_headers(const upstream::ResponseHead& upstream, std::string& out) {
  render_end_to_end(upstream, out);
}

void render_response_headers(const bhttp::fields& upstream, std::string& out) { render_end_to_end(upstream, out); }

bool is_json_content_type(std::string_view content_type) {
  return iequals(media_type(content_type), "application/json");
}

bool is_event_stream(std::string_view content_type) {
  return iequals(media_type(content_type), "text/event-stream");
}

}  // namespace sluice::server
