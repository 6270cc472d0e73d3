// Fuzzes the upstream response parser (src/upstream/response_head): arbitrary bytes as what a
// provider sent, fed whole and in pieces (split points and body buffer size from the first two
// input bytes). Checks:
//   - nothing crashes, whatever the head and framing;
//   - the outcome does not depend on how the input was split or how small the caller's body
//     buffer is: a complete message either way, with the same status, reason, fields and body,
//     or none either way (an error, or input that ended early: Beast may notice a bad start
//     line sooner in one piece than byte by byte, and a connection that ends there fails alike);
//   - every kept field is found again by name (any case) and by enum, first of its name first.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "upstream/response_head.hpp"

namespace {

namespace bhttp = boost::beast::http;

struct Outcome {
  bool complete = false;  // the message parsed to its end without an error
  unsigned status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
  bool operator==(const Outcome&) const = default;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "%s\n", what);
  std::abort();
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

void check_lookups(const sluice::upstream::ResponseHead& h) {
  for (auto it = h.begin(); it != h.end(); ++it) {
    auto first = h.find(it->name_string());
    if (first == h.end() || first > it || !iequals(first->name_string(), it->name_string())) fail("find by name");
    if (h[it->name_string()] != first->value()) fail("operator[] by name");
    if (it->name() != bhttp::field::unknown) {
      auto by_enum = h.find(it->name());
      if (by_enum == h.end() || by_enum > it || by_enum->name() != it->name()) fail("find by field");
    }
  }
}

// Feeds `raw` in pieces of at most `step` bytes, the body into a buffer of `room` bytes.
Outcome run(std::string_view raw, std::size_t step, std::size_t room) {
  Outcome out;
  sluice::upstream::ResponseParser p;
  p.body_limit(boost::none);
  std::vector<char> buf(room);
  std::string pending;
  std::size_t at = 0;
  for (int guard = 0; guard < 1'000'000 && !p.is_done(); ++guard) {
    if (at < raw.size()) {
      auto n = std::min(step, raw.size() - at);
      pending.append(raw.substr(at, n));
      at += n;
    }
    p.body_data = buf.data();
    p.body_size = buf.size();
    boost::system::error_code ec;
    auto used = p.put(boost::asio::buffer(pending.data(), pending.size()), ec);
    out.body.append(buf.data(), buf.size() - p.body_size);
    pending.erase(0, used);
    if (ec == bhttp::error::need_buffer) continue;
    if (ec && ec != bhttp::error::need_more) return Outcome{};  // an error: no message
    if (at >= raw.size() && used == 0 && (ec || pending.empty())) {
      // The input ended, as when the connection closes: that ends a body that runs to the close.
      boost::system::error_code eof;
      if (p.is_header_done() && !p.is_done()) p.put_eof(eof);
      if (eof) return Outcome{};
      break;
    }
  }
  if (p.is_header_done()) check_lookups(p.head());
  out.complete = p.is_done();
  if (out.complete) {
    const auto& h = p.head();
    out.status = h.result_int();
    out.reason = std::string(h.reason());
    for (const auto& f : h) out.fields.emplace_back(std::string(f.name_string()), std::string(f.value()));
  } else {
    out.body.clear();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t step = 1 + data[0] % 17;
  const std::size_t room = 1 + data[1] % 9;
  std::string_view raw(reinterpret_cast<const char*>(data) + 2, size - 2);
  Outcome whole = run(raw, raw.size() + 1, 1 << 16);
  Outcome pieces = run(raw, step, room);
  if (!(whole == pieces)) fail("the outcome depends on the split");
  return 0;
}
