// Client::Impl::stream: one streamed message, with the automatic resume of a broken stream from
// a sluice gateway (x-sluice-stream-id; GET /v1/streams/<id> with Last-Event-ID).

#include <boost/asio/use_awaitable.hpp>

#include "client/accumulator.hpp"
#include "client/codec.hpp"
#include "client/engine.hpp"
#include "client/retry.hpp"
#include "stream/event_id.hpp"
#include "stream/sse_parser.hpp"

namespace sluice::client {

namespace {

// Feeds parsed events to the accumulator, once each: on a resumed connection an event whose
// seq was already delivered is dropped (the gateway should not resend it; this makes sure).
class ResumeSink final : public stream::SseSink {
 public:
  ResumeSink(MessageAccumulator& acc, const std::string& stream_id, std::uint64_t& last_seq)
      : acc_(acc), stream_id_(stream_id), last_seq_(last_seq) {}

  void on_event(const stream::SseEvent& ev) override {
    if (acc_.state() != MessageAccumulator::State::Open) return;
    std::optional<std::uint64_t> seq;
    if (auto id = stream::parse_event_id(ev.id); id && id->stream == stream_id_) seq = id->seq;
    // An event without an id line of its own reports the id in force; only a new id counts.
    bool fresh_id = seq && ev.id != last_id_;
    if (fresh_id && *seq <= last_seq_) return;
    acc_.feed(ev.type, ev.data);
    if (fresh_id) {
      last_seq_ = *seq;
      last_id_.assign(ev.id.data(), ev.id.size());
    }
  }

 private:
  MessageAccumulator& acc_;
  const std::string& stream_id_;
  std::uint64_t& last_seq_;
  std::string last_id_;
};

Error broken_stream(const sluice::Error* transport) {
  Error e;
  if (transport && transport->kind == sluice::ErrorKind::Timeout) {
    e.kind = ErrorKind::Timeout;
    e.message = "the stream went silent for longer than the idle timeout";
  } else {
    e.kind = ErrorKind::StreamBroken;
    e.message = transport ? "the stream broke: " + transport->detail
                          : std::string("the stream ended without message_stop");
  }
  return e;
}

}  // namespace

net::awaitable<Result<Message>> Client::Impl::stream(MessageRequest req, StreamCallbacks cb) {
  Call call;
  call.target = "/v1/messages";
  call.body = codec::message_request_json(req, true);
  call.streaming = true;
  if (auto blocked = redact(call.body)) co_return *blocked;
  for (const auto& b : req.betas) call.betas += (call.betas.empty() ? "" : ",") + b;
  auto sent = co_await send(call);
  if (!sent.ok()) co_return sent.error();
  const int attempts = sent.value().attempts;
  auto res = std::move(sent.value().response);
  const int status = static_cast<int>(res->status());
  const std::string stream_id(res->head()["x-sluice-stream-id"]);
  const std::string request_id(res->head()["request-id"]);

  MessageAccumulator acc(cb, status, request_id);
  std::uint64_t last_seq = 0;
  std::string buf(16 * 1024, '\0');
  int resumes = 0;
  for (;;) {
    stream::SseParser parser;
    ResumeSink sink(acc, stream_id, last_seq);
    Error broken;
    for (;;) {
      auto n = co_await res->read(buf.data(), buf.size());
      if (!n.ok()) {
        broken = broken_stream(&n.error());
        break;
      }
      if (n.value() == 0) {
        broken = broken_stream(nullptr);
        break;
      }
      parser.feed(std::string_view(buf.data(), n.value()), sink);
      if (acc.state() == MessageAccumulator::State::Stopped) co_return acc.take_message();
      if (acc.state() == MessageAccumulator::State::Failed) {
        Error e = acc.error();
        e.attempts = attempts;
        co_return e;
      }
    }
    res.reset();
    broken.status = status;
    broken.request_id = request_id;
    broken.attempts = attempts;
    if (stream_id.empty()) co_return broken;  // not a sluice gateway: nothing to resume from

    for (;;) {
      if (resumes >= options_.retry.max_resume_attempts) {
        broken.message += " (not resumed after " + std::to_string(resumes) + " attempts)";
        co_return broken;
      }
      if (resumes > 0) co_await sleep(sdk_backoff(resumes - 1, options_.retry, random_));
      ++resumes;
      Call resume;
      resume.method = boost::beast::http::verb::get;
      resume.target = "/v1/streams/" + stream_id;
      resume.last_event_id = stream_id + ":" + std::to_string(last_seq);
      resume.streaming = true;
      resume.max_retries = 0;  // each resume is one attempt; the loop bounds them
      auto again = co_await send(resume);
      if (again.ok()) {
        res = std::move(again.value().response);
        break;
      }
      const Error& e = again.error();
      // 404 (unknown, expired or evicted stream), 403 (another key's stream): resuming cannot
      // help; the server's answer says why.
      if (e.kind == ErrorKind::Api && !is_retryable_status(e.status)) {
        Error out = e;
        out.message = "stream could not be resumed: " + e.message;
        co_return out;
      }
    }
  }
}

}  // namespace sluice::client
