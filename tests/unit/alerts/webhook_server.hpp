#pragma once
// A scripted HTTP server for the notifier's tests: listens on 127.0.0.1 on a port the kernel
// picks, accepts connections on its own thread, reads one request per connection, records it
// and answers with the next status of its script (200 once the script is used up). kHang reads
// the request and never answers, keeping the connection open until the server is destroyed.
// Bounded: every read gives up after a second, and the accept loop checks for shutdown every
// 20 ms. Not an HTTP implementation: just enough for one POST with a Content-Length.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sluice::alerts::testing {

class WebhookServer {
 public:
  static constexpr int kHang = -1;

  struct Request {
    std::string method, target, content_type, body;
  };

  explicit WebhookServer(std::vector<int> script) : script_(script.begin(), script.end()) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }

  ~WebhookServer() {
    stop_ = true;
    thread_.join();
    for (int fd : hung_) ::close(fd);
    ::close(listen_fd_);
  }

  int port() const { return port_; }
  std::string url(const std::string& path_and_query = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path_and_query;
  }

  // Waits until `n` requests have arrived, at most `timeout`; true when they did.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

  std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      Request req;
      if (!read_request(fd, req)) {
        ::close(fd);
        continue;
      }
      int status = 200;
      {
        std::lock_guard lock(mu_);
        if (!script_.empty()) {
          status = script_.front();
          script_.pop_front();
        }
        requests_.push_back(std::move(req));
      }
      arrived_.notify_all();
      if (status == kHang) {
        hung_.push_back(fd);
        continue;
      }
      std::string reply = "HTTP/1.1 " + std::to_string(status) + " Scripted\r\nContent-Length: 2\r\n" +
                          "Connection: close\r\n\r\nok";
      (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(fd);
    }
  }

  // Reads a request head and its Content-Length body within a second. False for anything
  // that does not start like an HTTP request (a TLS ClientHello, say): the caller hangs up.
  static bool read_request(int fd, Request& out) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    std::string data;
    std::size_t head_end = std::string::npos;
    std::size_t body_len = 0;
    for (;;) {
      if (!data.empty() && !std::isupper(static_cast<unsigned char>(data[0]))) return false;
      if (head_end == std::string::npos) {
        head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos) parse_head(data.substr(0, head_end), out, body_len);
      }
      if (head_end != std::string::npos && data.size() >= head_end + 4 + body_len) {
        out.body = data.substr(head_end + 4, body_len);
        return true;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<std::size_t>(n));
    }
  }

  static void parse_head(const std::string& head, Request& out, std::size_t& body_len) {
    std::size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    std::size_t sp1 = first.find(' ');
    std::size_t sp2 = first.find(' ', sp1 + 1);
    out.method = first.substr(0, sp1);
    out.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      pos = end + 2;
      std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      if (name == "content-length") body_len = std::stoul(value);
      if (name == "content-type") out.content_type = value;
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable arrived_;
  std::deque<int> script_;
  std::vector<Request> requests_;
  std::vector<int> hung_;  // touched by the server thread only, then by the destructor after join
};

}  // namespace sluice::alerts::testing
