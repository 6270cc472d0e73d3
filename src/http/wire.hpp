#pragma once
// Hand-rolled HTTP/1.1 head rendering for the hot path: one string built with appends, written
// with the body in one gather write. Beast's generic serializer cost about a third of the
// gateway's instructions per request (callgrind, bench/README.md); the framing rules are
// simple enough to own. Pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>

namespace sluice::http {

// "HTTP/1.x <status> <reason>\r\n". An empty reason is replaced by the standard one (or
// "Unknown"; 529 is "Overloaded").
void append_status_line(std::string& out, unsigned version, unsigned status, std::string_view reason);
// "Name: value\r\n".
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}
// Every field of `fields` except the framing ones the writer owns (Content-Length,
// Transfer-Encoding, Connection, Keep-Alive).
void append_fields(std::string& out, const boost::beast::http::fields& fields);
// The framing fields and the blank line that ends a head: content-length or chunked (or
// neither: close-delimited), and the connection header.
void append_framing(std::string& out, std::optional<std::uint64_t> content_length, bool chunked,
                    unsigned version, bool keep_alive);

}  // namespace sluice::http
