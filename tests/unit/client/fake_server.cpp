#include "unit/client/fake_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "stream/sse_parser.hpp"

namespace sluice::client::test {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 529: return "Overloaded";
    default: return "Status";
  }
}
}  // namespace

std::string FakeRequest::header(std::string_view name) const {
  std::string key = "\r\n" + lower(name) + ":";
  auto h = lower(head);
  auto at = h.find(key);
  if (at == std::string::npos) return {};
  auto start = at + key.size();
  auto end = head.find("\r\n", start);
  std::string v = head.substr(start, end - start);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  return v;
}

void FakeConn::send(std::string_view bytes) {
  boost::system::error_code ec;
  net::write(s_, net::buffer(bytes.data(), bytes.size()), ec);
}

void FakeConn::json(int status, std::string_view body, const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  out += "content-type: application/json\r\nconnection: close\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  out += "content-length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  send(out);
}

void FakeConn::sse_head(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n";
  out += "transfer-encoding: chunked\r\nconnection: close\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  out += "\r\n";
  send(out);
}

void FakeConn::chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out = size;
  out.append(data);
  out += "\r\n";
  send(out);
}

void FakeConn::finish() { send("0\r\n\r\n"); }

FakeServer::FakeServer(Handler handler) : handler_(std::move(handler)), acceptor_(io_) {
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { run(); });
}

FakeServer::~FakeServer() {
  stop_ = true;
  // Wakes the blocking accept.
  boost::system::error_code ec;
  tcp::socket s(io_);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
  thread_.join();
}

std::vector<FakeRequest> FakeServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void FakeServer::run() {
  for (int index = 0; index < 10'000 && !stop_; ++index) {
    tcp::socket s(io_);
    boost::system::error_code ec;
    acceptor_.accept(s, ec);
    if (ec || stop_) return;
    net::streambuf buf;
    auto n = net::read_until(s, buf, "\r\n\r\n", ec);
    if (ec) continue;
    std::string all(net::buffers_begin(buf.data()), net::buffers_end(buf.data()));
    FakeRequest req;
    req.head = all.substr(0, n - 2);
    std::string rest = all.substr(n);
    auto sp1 = req.head.find(' ');
    auto sp2 = req.head.find(' ', sp1 + 1);
    req.method = req.head.substr(0, sp1);
    req.target = req.head.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t length = 0;
    if (auto cl = req.header("content-length"); !cl.empty()) length = std::stoul(cl);
    if (rest.size() < length) {
      std::string more(length - rest.size(), '\0');
      net::read(s, net::buffer(more), ec);
      rest += more;
    }
    req.body = rest.substr(0, length);
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
    }
    FakeConn conn(s);
    handler_(req, index, conn);
    s.shutdown(tcp::socket::shutdown_both, ec);
    s.close(ec);
  }
}

std::string sse(std::string_view type, std::string_view data, std::string_view id) {
  return stream::format_event(type, data, id);
}

}  // namespace sluice::client::test
