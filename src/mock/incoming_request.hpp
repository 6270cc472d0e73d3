#pragma once
// A transport-neutral view of one HTTP request, so that the mock's routing and answers can be
// computed (and unit-tested) without sockets or Beast. Views into the caller's request, which
// must outlive this. Plain data; not synchronised.

#include <string_view>
#include <vector>

namespace sluice::mock {

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

struct IncomingRequest {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path and query, e.g. "/v1/messages?beta=true"
  std::vector<HeaderField> headers;
  std::string_view body;
  std::string_view request_id;  // the server's id for this request; empty = make one

  // The first header with this name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  std::string_view path() const;   // target without the query string
  std::string_view query() const;  // after '?', or empty
};

// The value of `name` in a query string "a=1&b=2" (no percent-decoding), or empty.
std::string_view query_param(std::string_view query, std::string_view name);

}  // namespace sluice::mock
