#pragma once
// The gateway's request handler: routes, validation, and the passthrough to Anthropic providers
// with retries, circuit breakers and fallbacks; responses are relayed event by event for
// streams. Life of a request: docs/life-of-a-request.md.
//
// Thread-safety: one Gateway serves every worker concurrently; it holds immutable config, the
// providers (internally synchronised) and the thread-safe access log.

#include <atomic>

#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "common/clock.hpp"
#include "config/config.hpp"
#include "http/server.hpp"
#include "server/access_log.hpp"
#include "server/accounting.hpp"
#include "server/context_guard.hpp"
#include "server/redaction.hpp"
#include "server/routing.hpp"
#include "stream/replay_buffer.hpp"
#include "upstream/provider.hpp"

namespace sluice::server {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;

// What the gateway needs from its environment (LevelDB's Env seam): tests pass fakes.
struct Deps {
  const Clock& clock;
  Random& random;
  AccessLog& log;
  // The worker threads' contexts, for the admin API's catch-up (admin_api.cpp); none in tests
  // that build a Gateway without a server.
  http::Workers* workers = nullptr;
};

class SharedStreams;

class Gateway {
 public:
  // `deps` must outlive the Gateway.
  Gateway(const config::Config& cfg, unsigned workers, Deps deps);
  ~Gateway();

  net::awaitable<void> handle(http::Request& req, http::ResponseWriter& w);
  // Reply for requests the HTTP layer refused before routing (framing, limits); logs them.
  bhttp::response<bhttp::string_body> reject(const http::Rejection& r);
  // From now on /healthz answers 503 so load balancers move traffic away.
  void set_draining() { draining_.store(true); }
  Accounting& accounting() { return *accounting_; }

  struct Exchange;      // per-request state, server/exchange.hpp
  struct StreamResult;  // outcome of relaying one upstream stream, server/exchange.hpp
  struct GraceWatch;    // the grace period of a detached stream, server/exchange.hpp

 private:
  net::awaitable<void> proxy(http::Request& req, http::ResponseWriter& w, Exchange& ex);
  // Relays one upstream stream; `sr` says how it went. (An out-parameter: g++ 12 miscompiled
  // this coroutine returning the struct by value.)
  net::awaitable<void> relay_stream(const http::Request& req, upstream::UpstreamResponse& res,
                                    http::ResponseWriter& w, Exchange& ex, StreamResult& sr);
  net::awaitable<void> flush_held(const http::Request& req, upstream::UpstreamResponse& res,
                                  http::ResponseWriter& w, Exchange& ex, StreamResult& sr);
  net::awaitable<bool> relay_body(const http::Request& req, upstream::UpstreamResponse& res,
                                  http::ResponseWriter& w, Exchange& ex);
  // A whole (not streamed) answer or error, in the client's dialect: relay_body, or one of the two
  // translating relays below.
  net::awaitable<bool> relay_whole(const http::Request& req, upstream::UpstreamResponse& res,
                                   http::ResponseWriter& w, Exchange& ex);
  // Reads a whole answer to translate into `body`; false when it failed (answered already).
  net::awaitable<bool> read_answer(const http::Request& req, upstream::UpstreamResponse& res,
                                   http::ResponseWriter& w, Exchange& ex, std::string& body);
  // An OpenAI upstream's whole answer, as an Anthropic Message or error (translate/chat_response).
  net::awaitable<bool> relay_translated_body(const http::Request& req, upstream::UpstreamResponse& res,
                                             http::ResponseWriter& w, Exchange& ex);
  // An Anthropic answer or error for an OpenAI client (translate/message_response).
  net::awaitable<bool> relay_body_to_openai(const http::Request& req, upstream::UpstreamResponse& res,
                                            http::ResponseWriter& w, Exchange& ex);
  net::awaitable<void> reply_error(http::Request& req, http::ResponseWriter& w, Exchange& ex, const Error& e);
  // sluice's error response for `e` with what the exchange knows: attempts, spent retries,
  // retry-after, Allow.
  bhttp::response<bhttp::string_body> error_reply(const http::Request& req, const Exchange& ex, const Error& e) const;
  // The header lines of the response to the client: the upstream's end-to-end headers plus
  // sluice's own (x-sluice-request-id, x-sluice-attempts, x-should-retry when retries are spent).
  std::string response_fields(const http::Request& req, upstream::UpstreamResponse& res, const Exchange& ex) const;
  void health(http::Request& req, bhttp::response<bhttp::string_body>& res) const;
  // Every provider's deployments with their breaker state and outstanding requests, as in
  // /healthz; `any_open` tells whether a breaker is open.
  boost::json::array provider_states(bool& any_open) const;
  void log(const http::Request& req, const http::ResponseWriter& w, Exchange& ex);  // the finish phase
  upstream::Provider* provider_named(const std::string& name);
  // Validation, admission, redaction and the context guard of a model request (admission.cpp);
  // false when it was answered locally.
  net::awaitable<bool> admit_model_request(http::Request& req, http::ResponseWriter& w, Exchange& ex, bool messages);
  // POST /v1/chat/completions from an OpenAI client: the request becomes a Messages request
  // (translate/chat_to_messages), then goes through admit_model_request; the answer is
  // translated back in the relay.
  net::awaitable<bool> admit_chat_request(http::Request& req, http::ResponseWriter& w, Exchange& ex);
  std::optional<Error> redact_body(http::Request& req, Exchange& ex);
  // 415 unless the request says its body is JSON.
  static std::optional<Error> check_json_body(const http::Request& req);
  // `betas`: every anthropic-beta line of the request, joined by commas.
  std::optional<Error> guard_context(http::Request& req, Exchange& ex, const stages::context::RequestTokens& estimate,
                                     const std::string& model, std::int64_t max_tokens, const std::string& betas);
  // Answers count_tokens with sluice's estimate (ex.local_count); `reason` goes to metrics.
  net::awaitable<void> answer_count_locally(http::Request& req, http::ResponseWriter& w, Exchange& ex,
                                            std::string_view reason);
  // The admin API (admin_api.cpp): keys, projects and usage as JSON under /admin/.
  net::awaitable<void> admin(http::Request& req, http::ResponseWriter& w, Exchange& ex);
  // The dashboard (dashboard_route.cpp): its static files under /admin/dashboard, served
  // without the admin key (the page asks for it), and GET /admin/live, the live snapshot.
  net::awaitable<void> dashboard(http::Request& req, http::ResponseWriter& w, Exchange& ex);
  net::awaitable<void> live(http::Request& req, http::ResponseWriter& w, Exchange& ex);
  // A 200 JSON answer of the admin API.
  net::awaitable<void> reply_json(http::Request& req, http::ResponseWriter& w, Exchange& ex, unsigned status,
                                  const boost::json::value& body);
  void register_gateway_metrics();

  // Resumable streams (resume.cpp). Whether this streaming request gets ids and a replay buffer.
  bool resumable(const http::Request& req, const Exchange& ex) const;
  // Who may resume the stream: the virtual key, or a hash of the presented credential.
  std::string owner_of(const http::Request& req, const Exchange& ex) const;
  // Names a request for transparent resume: SHA-256 over its path, version, betas and body.
  static std::string request_fingerprint(const http::Request& req, std::string_view body);
  std::optional<Error> find_resumable(const http::Request& req, Exchange& ex, std::string_view id,
                                      std::shared_ptr<stream::ReplayStream>& out);
  // The 404 of an unknown or expired stream and the 403 of another owner's, counted in metrics.
  Error unknown_stream(std::string_view id);
  Error foreign_stream(std::string_view id);
  // GET /v1/streams/<id> (`path_id`), or a model request repeated with Last-Event-ID.
  net::awaitable<void> resume(http::Request& req, http::ResponseWriter& w, Exchange& ex, std::string_view path_id);
  // Answers an identical retry from the stream its client abandoned; false when there is none.
  net::awaitable<bool> try_transparent_resume(http::Request& req, http::ResponseWriter& w, Exchange& ex);
  // Replays the events after seq `from`, then follows the stream live to its end.
  net::awaitable<void> serve_replay(http::Request& req, http::ResponseWriter& w, Exchange& ex,
                                    std::shared_ptr<stream::ReplayStream> s, std::uint64_t from, const char* how);
  // Resumes a stream this replica does not have, from the shared buffers in Redis
  // (shared_resume.cpp): the events after `from`, then the rest as Redis gets it; a stream whose
  // replica died is taken over and continued here.
  net::awaitable<void> resume_shared(http::Request& req, http::ResponseWriter& w, Exchange& ex, std::string id,
                                     std::uint64_t from, std::string last);
  // An identical retry of a stream whose client left it on another replica, answered from Redis
  // as try_transparent_resume answers one from this replica's buffer; false when Redis knows of
  // none this request may reuse (then it goes upstream as usual).
  net::awaitable<bool> try_shared_transparent_resume(http::Request& req, http::ResponseWriter& w, Exchange& ex);
  // Answers with another replica's stream `id` from event `from` on ("resume" or "transparent"):
  // its head, then follow_shared. The caller has checked the owner.
  net::awaitable<void> serve_shared(http::Request& req, http::ResponseWriter& w, Exchange& ex, const std::string& id,
                                    bool openai, const std::string& model, const std::string& upstream_request_id,
                                    std::uint64_t from, const char* how);
  // The events of another replica's stream after `from`, then the rest as Redis gets it.
  net::awaitable<void> follow_shared(http::Request& req, http::ResponseWriter& w, Exchange& ex, const std::string& id,
                                     bool openai, std::uint64_t from);
  // Continues a stream whose producing replica died; false when another replica claimed it first.
  net::awaitable<bool> take_over(http::Request& req, http::ResponseWriter& w, Exchange& ex, const std::string& id,
                                 bool openai, std::uint64_t& from);
  // The head of a replayed stream's response.
  static std::string replay_fields(const http::Request& req, const std::string& id, const char* how,
                                   const std::string& upstream_request_id, bool openai);
  // From now on, a client that leaves cancels the exchange, or detaches a committed resumable stream.
  void watch_client(http::ResponseWriter& w, Exchange& ex);
  // The client of a committed resumable stream left: the upstream goes on into the buffer until
  // the stream ends or nobody resumed it for the grace period.
  void detach(Exchange& ex, GraceWatch& watch);
  void arm_grace(Exchange& ex, GraceWatch& watch, std::chrono::milliseconds wait);
  // Upstream recovery (recovery.cpp): asks for the rest of a stream that broke after its commit
  // point with the text so far as a prefill, and splices it in; ends the stream with an error
  // event when it cannot.
  net::awaitable<void> recover_stream(http::Request& req, http::ResponseWriter& w, Exchange& ex,
                                      upstream::UpstreamRequest& ureq, upstream::Deployment& d, StreamResult& broken);
  bool takes_prefill(std::string_view model) const;
  // Ends a committed stream whose upstream broke: settles the charge, then the error event in the
  // client's dialect, into the replay buffer too (relay.cpp).
  net::awaitable<void> end_broken_stream(http::ResponseWriter& w, Exchange& ex, StreamResult& sr);
  // Ends a resumable stream's buffer with the error event for `e` (its id added), so that a
  // resume ends the same way; returns the event as the client gets it (relay.cpp).
  std::string seal_broken_replay(Exchange& ex, const Error& e);
  // At the commit point of a stream recovery applies to: what a continuation on another replica
  // needs, into the shared buffers (relay.cpp).
  void share_recipe(const http::Request& req, Exchange& ex);
  // Sends one batch of events to the client and into the replay buffer (relay.cpp).
  net::awaitable<bool> emit(http::ResponseWriter& w, Exchange& ex, std::string_view bytes,
                            const std::vector<std::size_t>& event_ends);

  Deps deps_;
  std::vector<std::unique_ptr<upstream::Provider>> providers_;  // [0] serves every request
  std::atomic<bool> draining_{false};
  std::unique_ptr<Accounting> accounting_;
  Redaction redaction_;
  ContextGuard context_;
  Router router_;
  std::string admin_key_;
  std::unique_ptr<net::thread_pool> admin_pool_;
  config::StreamsConfig streams_;
  std::unique_ptr<stream::ReplayStore> replay_;  // null when streams.resume is off
  std::unique_ptr<SharedStreams> shared_streams_;  // streams.engine: redis; after replay_, which it observes
};

// An error response in the dialect of `path`, with the request id in a header and the body.
bhttp::response<bhttp::string_body> error_response(std::string_view path, const Error& e,
                                                   const std::string& request_id);
// The event that ends a stream sluice cannot carry on, in the stream's dialect: an Anthropic
// `error` event, or an OpenAI error chunk (and no [DONE]), typed after `kind`.
std::string stream_error_event(bool openai, ErrorKind kind, std::string_view message);
// The reply to a request the HTTP layer refused before routing (an http::Rejector without
// logging; Gateway::reject adds the access-log line).
bhttp::response<bhttp::string_body> rejection_response(const http::Rejection& r);

}  // namespace sluice::server
