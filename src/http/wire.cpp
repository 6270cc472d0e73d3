#include "http/wire.hpp"

#include <boost/beast/http/status.hpp>

namespace sluice::http {

namespace bhttp = boost::beast::http;

void append_status_line(std::string& out, unsigned version, unsigned status, std::string_view reason) {
  out.append(version >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ");
  char digits[4] = {static_cast<char>('0' + status / 100 % 10), static_cast<char>('0' + status / 10 % 10),
                    static_cast<char>('0' + status % 10), ' '};
  out.append(digits, 4);
  if (reason.empty()) {
    if (status == 529) {
      reason = "Overloaded";
    } else {
      auto r = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
      reason = std::string_view(r.data(), r.size());
      if (reason.empty() || reason == "<unknown-status>") reason = "Unknown";
    }
  }
  out.append(reason);
  out.append("\r\n");
}

void append_fields(std::string& out, const bhttp::fields& fields) {
  for (const auto& f : fields) {
    switch (f.name()) {
      case bhttp::field::content_length:
      case bhttp::field::transfer_encoding:
      case bhttp::field::connection:
      case bhttp::field::keep_alive:
        continue;
      default:
        append_field(out, {f.name_string().data(), f.name_string().size()}, {f.value().data(), f.value().size()});
    }
  }
}

void append_framing(std::string& out, std::optional<std::uint64_t> content_length, bool chunked,
                    unsigned version, bool keep_alive) {
  if (content_length) {
    append_field(out, "Content-Length", std::to_string(*content_length));
  } else if (chunked) {
    append_field(out, "Transfer-Encoding", "chunked");
  }
  if (version >= 11) {
    if (!keep_alive) append_field(out, "Connection", "close");
  } else if (keep_alive) {
    append_field(out, "Connection", "keep-alive");
  }
  out.append("\r\n");
}

}  // namespace sluice::http
