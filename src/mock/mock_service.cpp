#include "mock/mock_service.hpp"

#include "mock/reply_sender.hpp"

namespace sluice::mock {

MockService::MockService(MockOptions options) : responder_(std::move(options)) {}

boost::asio::awaitable<void> MockService::handle(http::Request& req, http::ResponseWriter& writer) {
  const auto& msg = req.msg;
  IncomingRequest in;
  const auto method = msg.method_string();
  const auto target = msg.target();
  in.method = std::string_view(method.data(), method.size());
  in.target = std::string_view(target.data(), target.size());
  in.headers.reserve(24);
  for (const auto& field : msg) {
    const auto name = field.name_string();
    const auto value = field.value();
    in.headers.push_back({std::string_view(name.data(), name.size()), std::string_view(value.data(), value.size())});
  }
  in.body = msg.body();
  in.request_id = req.request_id;

  Reply reply = responder_.respond(in);
  const SendContext ctx{responder_.options().stall_limit, &stopping_};
  co_await send_reply(reply, writer, ctx);
}

http::Handler MockService::handler() {
  return [this](http::Request& req, http::ResponseWriter& writer) { return handle(req, writer); };
}

}  // namespace sluice::mock
