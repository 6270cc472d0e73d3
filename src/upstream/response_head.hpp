#pragma once
// The head of an upstream response and the parser that reads it.
//
// A provider's answer carries about twenty header fields (request-id, the anthropic-ratelimit-*
// set, ...). Beast's response parser stores them in basic_fields: one allocation per field and
// a case-insensitive ordered-set insert, whose compares walk the long shared prefixes of the
// rate-limit names (callgrind: ~7 K instructions per request for 16 fields, 6 % of the
// gateway's CPU per non-streaming request). The gateway only ever iterates them once (to pass
// them on) and looks up a handful, so ResponseHead keeps them flat, in arrival order: one string
// holding every name and value, and an index. Lookups are linear and case-insensitive.
//
// ResponseParser is Beast's basic_parser (the same HTTP/1 parsing, framing, chunked decoding
// and limits) with that head and buffer_body's semantics for the body: the caller points
// body_data/body_size at its buffer, the parser copies body bytes into it and advances them,
// and put() or a read reports bhttp::error::need_buffer when it is full. Fields in a chunked
// body's trailer are not kept (sluice reads none). Not thread-safe: one response, one thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/field.hpp>

namespace sluice::upstream {

namespace bhttp = boost::beast::http;

class ResponseHead {
 public:
  class Field {
   public:
    bhttp::field name() const { return name_; }  // field::unknown for a name Beast does not know
    std::string_view name_string() const { return std::string_view(*text_).substr(name_at_, name_size_); }
    std::string_view value() const { return std::string_view(*text_).substr(value_at_, value_size_); }

   private:
    friend class ResponseParser;
    bhttp::field name_ = bhttp::field::unknown;
    const std::string* text_ = nullptr;  // the head's text (offsets stay valid as it grows)
    std::uint32_t name_at_ = 0, name_size_ = 0, value_at_ = 0, value_size_ = 0;
  };
  using const_iterator = std::vector<Field>::const_iterator;

  ResponseHead() = default;
  // Fields refer to their head's text: a head is neither copied nor moved.
  ResponseHead(const ResponseHead&) = delete;
  ResponseHead& operator=(const ResponseHead&) = delete;

  unsigned result_int() const { return status_; }
  std::string_view reason() const { return {text_.data(), reason_size_}; }
  int version() const { return version_; }

  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }
  std::size_t size() const { return fields_.size(); }
  // The first field of that name (any case), or end().
  const_iterator find(std::string_view name) const;
  const_iterator find(bhttp::field name) const;
  // The first value of that field; empty when absent.
  std::string_view operator[](std::string_view name) const;
  std::string_view operator[](bhttp::field name) const;

 private:
  friend class ResponseParser;
  std::string text_;  // the reason phrase, then each field's name and value
  std::size_t reason_size_ = 0;
  std::vector<Field> fields_;
  unsigned status_ = 0;
  int version_ = 11;
};

class ResponseParser final : public bhttp::basic_parser<false> {
 public:
  ResponseParser();

  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Complete once the parser's is_header_done(); the fields so far before.
  const ResponseHead& head() const { return head_; }

  // Where the next body bytes go (buffer_body's data and size): advanced past what was written.
  // Null: the next body bytes make the parse stop with error::need_buffer.
  char* body_data = nullptr;
  std::size_t body_size = 0;

 private:
  using error_code = boost::system::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(bhttp::verb, string_view, string_view, int, error_code& ec) override;
  void on_response_impl(int code, string_view reason, int version, error_code& ec) override;
  void on_field_impl(bhttp::field name, string_view name_string, string_view value, error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length, error_code& ec) override;
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, string_view extensions, error_code& ec) override;
  std::size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
  void on_finish_impl(error_code& ec) override;

  // Copies what fits of `body` into the caller's buffer.
  std::size_t take_body(string_view body, error_code& ec);

  ResponseHead head_;
  bool head_done_ = false;
};

}  // namespace sluice::upstream
