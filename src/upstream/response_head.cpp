#include "upstream/response_head.hpp"

#include <algorithm>
#include <cstring>

#include <boost/beast/http/error.hpp>

namespace sluice::upstream {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The head's text starts with room for a typical provider head (twenty-odd fields): one
// allocation, and the index another.
constexpr std::size_t kTextReserve = 1536;
constexpr std::size_t kFieldsReserve = 24;

}  // namespace

ResponseHead::const_iterator ResponseHead::find(std::string_view name) const {
  return std::find_if(fields_.begin(), fields_.end(), [&](const Field& f) { return iequals(f.name_string(), name); });
}

ResponseHead::const_iterator ResponseHead::find(bhttp::field name) const {
  if (name == bhttp::field::unknown) return fields_.end();
  return std::find_if(fields_.begin(), fields_.end(), [&](const Field& f) { return f.name() == name; });
}

std::string_view ResponseHead::operator[](std::string_view name) const {
  auto it = find(name);
  return it == end() ? std::string_view() : it->value();
}

std::string_view ResponseHead::operator[](bhttp::field name) const {
  auto it = find(name);
  return it == end() ? std::string_view() : it->value();
}

ResponseParser::ResponseParser() {
  head_.text_.reserve(kTextReserve);
  head_.fields_.reserve(kFieldsReserve);
}

void ResponseParser::on_request_impl(bhttp::verb, string_view, string_view, int, error_code& ec) {
  ec = bhttp::error::bad_method;  // unreachable: a response parser never sees a request line
}

void ResponseParser::on_response_impl(int code, string_view reason, int version, error_code& ec) {
  head_.status_ = static_cast<unsigned>(code);
  head_.version_ = version;
  head_.text_.assign(reason.data(), reason.size());
  head_.reason_size_ = reason.size();
  ec = {};
}

void ResponseParser::on_field_impl(bhttp::field name, string_view name_string, string_view value, error_code& ec) {
  ec = {};
  if (head_done_) return;  // a chunked body's trailer: not kept
  // Offsets fit in 32 bits: the head is at most header_limit bytes, itself a 32-bit count.
  auto& text = head_.text_;
  ResponseHead::Field f;
  f.name_ = name;
  f.text_ = &text;
  f.name_at_ = static_cast<std::uint32_t>(text.size());
  f.name_size_ = static_cast<std::uint32_t>(name_string.size());
  text.append(name_string.data(), name_string.size());
  f.value_at_ = static_cast<std::uint32_t>(text.size());
  f.value_size_ = static_cast<std::uint32_t>(value.size());
  text.append(value.data(), value.size());
  head_.fields_.push_back(f);
}

void ResponseParser::on_header_impl(error_code& ec) {
  head_done_ = true;
  ec = {};
}

void ResponseParser::on_body_init_impl(const boost::optional<std::uint64_t>&, error_code& ec) { ec = {}; }

std::size_t ResponseParser::take_body(string_view body, error_code& ec) {
  if (body_data == nullptr) {
    ec = bhttp::error::need_buffer;
    return 0;
  }
  const std::size_t n = std::min(body.size(), body_size);
  if (n > 0) std::memcpy(body_data, body.data(), n);
  body_data += n;
  body_size -= n;
  ec = {};
  if (n < body.size()) ec = bhttp::error::need_buffer;
  return n;
}

std::size_t ResponseParser::on_body_impl(string_view body, error_code& ec) { return take_body(body, ec); }

void ResponseParser::on_chunk_header_impl(std::uint64_t, string_view, error_code& ec) { ec = {}; }

std::size_t ResponseParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) {
  return take_body(body, ec);
}

void ResponseParser::on_finish_impl(error_code& ec) { ec = {}; }

}  // namespace sluice::upstream
