#pragma once
// Per-request state of the gateway, owned by the handler's coroutine frame (Pingora's CTX),
// and the outcome of relaying one upstream stream.

#include <memory>
#include <optional>

#include <boost/asio/steady_timer.hpp>
#include <string>

#include "server/accounting.hpp"
#include "server/stream_splice.hpp"
#include "stream/replay_buffer.hpp"
#include "server/gateway.hpp"
#include "translate/chat_stream.hpp"
#include "translate/messages_stream.hpp"
#include "translate/names.hpp"

namespace sluice::server {

struct Gateway::Exchange {
  std::string model;
  bool stream = false;
  int upstream_status = 0;
  int attempts = 0;                 // upstream attempts over every provider tried
  std::string provider;             // the provider (deployment label) that answered last
  std::string upstream_request_id;
  std::string error;                // kind name of the error that ended the request, if any
  bool exhausted = false;           // retries were spent: the final error says so
  bool client_gone = false;         // the client closed its connection
  int retry_after_s = 0;            // sent as retry-after with sluice's own error, when > 0
  std::string allow;                // the Allow header of a 405
  Accounting::Headers extra_headers;  // sent with sluice's own error (rate-limit details)
  Accounting::Headers response_headers;  // sent with every response (x-sluice-context-trimmed)
  std::optional<std::uint64_t> local_count;  // count_tokens: sluice's estimate, if the upstream cannot answer
  // The route (server/routing.hpp): the provider of the first hop, the model it is asked for
  // (empty: the client's) and a cap on max_tokens.
  upstream::Provider* provider_for_route = nullptr;
  std::string upstream_model;
  std::optional<std::int64_t> max_tokens_cap;
  std::optional<bool> route_recover;  // the route's `recover:` setting
  // The current attempt speaks OpenAI: the tool names of its translated request, and the
  // stream translator of its answer (new for every attempt).
  struct Translation {
    translate::ToolNames tools;
    std::unique_ptr<translate::ChatToMessagesStream> stream;
  };
  std::optional<Translation> translation;
  std::uint64_t translation_input = 0;  // the input estimate a translated answer starts with
  // An OpenAI client (POST /v1/chat/completions): its answer is translated back on the way out.
  std::optional<translate::ChatStreamOptions> openai_client;
  std::unique_ptr<translate::MessagesToChatStream> to_openai;  // per attempt, for streams
  bool openai_models = false;  // GET /v1/models from an OpenAI client: the list in its shape
  Accounting::Charge charge;        // who pays, the reservation, the meter
  std::optional<http::Clock::time_point> upstream_start;  // the first upstream attempt was sent
  // What to cancel when the client goes away: the response being relayed, the connection of
  // an attempt still connecting or waiting for its head, or the wait before a retry.
  upstream::UpstreamResponse* current = nullptr;
  upstream::Connection* connecting = nullptr;
  boost::asio::steady_timer* retry_wait = nullptr;

  // Resumable streams (server/resume.cpp). `replay` is this stream's buffer once the request is
  // known to stream; events get ids and are kept there. When the client leaves after the commit
  // point the stream is `detached`: the upstream goes on into the buffer for the grace period.
  std::shared_ptr<stream::ReplayStream> replay;
  std::string owner;                 // who may resume: the virtual key, or a hash of the credential
  bool ids_wanted = false;           // an OpenAI client that opted in with x-sluice-resumable
  bool committed = false;            // the stream's first byte went out
  bool detached = false;
  bool abandoned = false;            // detached, and nobody came back within the grace period
  // Upstream stream recovery (server/recovery.cpp): the splicer watching this stream (how many
  // continuations were requested is charge.recoveries).
  bool recovery = false;             // enabled for this hop's stream (route, model takes a prefill)
  std::unique_ptr<StreamSplice> splice;
  std::string_view fingerprint_body; // the request as first sent upstream (transparent resume)
  const http::Request* fingerprint_req = nullptr;
  std::string fingerprint;           // of the request, once computed
  std::string shared_abandoned_key;  // where Redis filed the abandoned stream a retry is answered from
  const char* replay_kind = "";      // answered from a buffer: "resume" or "transparent"
  GraceWatch* grace_watch = nullptr;  // the relay's, while a resumable stream is relayed
  // What a continuation on another replica needs (shared replay buffers): the request as sent
  // upstream and the provider of the current hop.
  const upstream::UpstreamRequest* upstream_request = nullptr;
  std::string hop_provider;
};

// The grace period of a detached stream: a timer, and a flag its queued handler checks, since the
// relay that owns both may end while the handler waits in the queue.
struct Gateway::GraceWatch {
  explicit GraceWatch(const boost::asio::any_io_executor& ex) : timer(ex) {}
  ~GraceWatch() { *alive = false; }
  boost::asio::steady_timer timer;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

struct Gateway::StreamResult {
  bool committed = false;          // bytes of this stream reached the client
  bool completed = false;          // ended with message_stop (or a relayed in-band error after content)
  std::string inband_error_type;   // an in-band error that arrived before the commit point
  std::optional<Error> failure;    // the upstream broke (reset, idle timeout, EOF without end)
  std::string held;                // bytes held back before the commit point
  std::vector<std::size_t> held_events;  // resumable: where each held event ends in `held`
  std::uint64_t next_seq = 0;      // resumable: the seq the next event of this attempt gets
  bool recover = false;            // broke after the commit point and may be continued: not ended yet
  bool continuation = false;       // the stream of a recovery: spliced into a committed response
};

}  // namespace sluice::server
