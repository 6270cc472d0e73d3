#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/write.hpp>

#include <array>

#include "http/server.hpp"
#include "http/wire.hpp"

namespace sluice::http {

namespace {
constexpr auto kTuple = net::as_tuple(net::use_awaitable);
}

ResponseWriter::ResponseWriter(beast::tcp_stream& stream, unsigned version, bool keep_alive,
                               std::chrono::milliseconds write_timeout)
    : stream_(stream), version_(version), keep_alive_(keep_alive), write_timeout_(write_timeout) {}

net::awaitable<bool> ResponseWriter::send(bhttp::response<bhttp::string_body> res) {
  std::string fields;
  fields.reserve(512);
  append_fields(fields, res.base());
  std::string reason(res.reason());
  co_return co_await send_raw(res.result_int(), reason, fields, res.body());
}

net::awaitable<bool> ResponseWriter::start(bhttp::response<bhttp::empty_body> head) {
  std::string fields;
  fields.reserve(512);
  append_fields(fields, head.base());
  std::string reason(head.reason());
  std::optional<std::uint64_t> length;
  if (head.has_content_length()) {
    auto v = head[bhttp::field::content_length];
    length = std::stoull(std::string(v));
  }
  co_return co_await start_raw(head.result_int(), reason, fields, length);
}

net::awaitable<bool> ResponseWriter::send_raw(unsigned status, std::string_view reason, std::string_view fields,
                                              std::string_view body) {
  if (started_ || gone_) co_return false;
  started_ = true;
  status_ = static_cast<int>(status);
  std::string head;
  head.reserve(fields.size() + 128);
  append_status_line(head, version_, status, reason);
  head.append(fields);
  append_framing(head, body.size(), false, version_, keep_alive_);
  std::array<net::const_buffer, 2> buffers{net::buffer(head), net::const_buffer(body.data(), body.size())};
  first_byte_at_ = Clock::now();
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await net::async_write(stream_, buffers, kTuple);
  bytes_out_ += n;
  if (ec) {
    gone_ = true;
    co_return false;
  }
  finished_ = true;
  co_return true;
}

net::awaitable<bool> ResponseWriter::start_raw(unsigned status, std::string_view reason, std::string_view fields,
                                               std::optional<std::uint64_t> content_length) {
  if (started_ || gone_) co_return false;
  started_ = true;
  status_ = static_cast<int>(status);
  chunked_ = !content_length;
  if (chunked_ && version_ < 11) {
    // HTTP/1.0 has no chunked encoding: the body ends when the connection closes.
    chunked_ = false;
    keep_alive_ = false;
  }
  std::string head;
  head.reserve(fields.size() + 128);
  append_status_line(head, version_, status, reason);
  head.append(fields);
  append_framing(head, content_length, chunked_, version_, keep_alive_);
  first_byte_at_ = Clock::now();
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await net::async_write(stream_, net::buffer(head), kTuple);
  bytes_out_ += n;
  if (ec) {
    gone_ = true;
    co_return false;
  }
  co_return true;
}

net::awaitable<bool> ResponseWriter::write(std::string_view bytes) {
  if (!started_ || finished_ || gone_) co_return false;
  if (bytes.empty()) co_return true;
  stream_.expires_after(write_timeout_);
  boost::system::error_code ec;
  std::size_t n = 0;
  if (chunked_) {
    std::tie(ec, n) = co_await net::async_write(
        stream_, bhttp::make_chunk(net::const_buffer(bytes.data(), bytes.size())), kTuple);
  } else {
    std::tie(ec, n) =
        co_await net::async_write(stream_, net::const_buffer(bytes.data(), bytes.size()), kTuple);
  }
  bytes_out_ += n;
  if (ec) {
    gone_ = true;
    co_return false;
  }
  co_return true;
}

net::awaitable<bool> ResponseWriter::finish() {
  if (!started_ || finished_ || gone_) co_return false;
  finished_ = true;
  if (!chunked_) co_return true;
  stream_.expires_after(write_timeout_);
  auto [ec, n] = co_await net::async_write(stream_, bhttp::make_chunk_last(), kTuple);
  bytes_out_ += n;
  if (ec) {
    gone_ = true;
    co_return false;
  }
  co_return true;
}

void ResponseWriter::watch_client(std::function<void()> on_gone) {
  unwatch();
  auto flag = std::make_shared<bool>(true);
  watching_ = flag;
  auto& sock = stream_.socket();
  sock.async_wait(tcp::socket::wait_read, [flag, &sock, on_gone = std::move(on_gone)](boost::system::error_code ec) {
    if (!*flag || ec) return;  // unwatched, or the socket was cancelled/closed by us
    *flag = false;
    // Readable with nothing to read means the peer closed (FIN) or reset the connection. Bytes
    // to read (a pipelined request) mean the client is still there: stop watching.
    boost::system::error_code aec;
    if (sock.available(aec) == 0 || aec) on_gone();
  });
}

void ResponseWriter::unwatch() {
  if (watching_ && *watching_) {
    *watching_ = false;
    boost::system::error_code ec;
    stream_.socket().cancel(ec);  // completes the pending wait (its handler sees the flag)
  }
  watching_.reset();
}

ResponseWriter::~ResponseWriter() { unwatch(); }

void ResponseWriter::abort() {
  aborted_ = true;
  gone_ = true;
  boost::system::error_code ec;
  // RST rather than FIN so the client cannot mistake the cut for a clean end of body.
  stream_.socket().set_option(net::socket_base::linger(true, 0), ec);
  stream_.socket().close(ec);
}

}  // namespace sluice::http
