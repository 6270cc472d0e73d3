#pragma once
// A small HTTP/1.1 server on 127.0.0.1 (port 0) for the client library's tests. One thread,
// one connection at a time, each closed after its answer: the handler writes raw bytes, so a
// test can answer, stall, or cut a stream anywhere (closing without the final chunk).

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace sluice::client::test {

struct FakeRequest {
  std::string method;
  std::string target;
  std::string head;  // request line and fields, lower-cased names kept as sent
  std::string body;
  // A field's value ("" when absent); the name is matched ignoring case.
  std::string header(std::string_view name) const;
};

class FakeConn {
 public:
  explicit FakeConn(boost::asio::ip::tcp::socket& s) : s_(s) {}
  void send(std::string_view bytes);
  // A complete answer with a JSON body.
  void json(int status, std::string_view body, const std::vector<std::pair<std::string, std::string>>& headers = {});
  // 200 text/event-stream, chunked; then chunk() pieces and finish() (or return without it to cut).
  void sse_head(const std::vector<std::pair<std::string, std::string>>& headers = {});
  void chunk(std::string_view data);
  void finish();

 private:
  boost::asio::ip::tcp::socket& s_;
};

class FakeServer {
 public:
  // handler(request, index of the request from 0, connection)
  using Handler = std::function<void(const FakeRequest&, int, FakeConn&)>;
  explicit FakeServer(Handler handler);
  ~FakeServer();
  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<FakeRequest> requests() const;

 private:
  void run();
  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<FakeRequest> requests_;
  std::thread thread_;
};

// "event: <type>\nid: <id>\ndata: <data>\n\n" (no id line when `id` is empty).
std::string sse(std::string_view type, std::string_view data, std::string_view id = {});

}  // namespace sluice::client::test
