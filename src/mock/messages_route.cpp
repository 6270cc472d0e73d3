// Responder: POST /v1/messages and POST /v1/messages/count_tokens (Anthropic dialect).

#include <boost/json/monotonic_resource.hpp>

#include "common/ids.hpp"
#include "mock/anthropic_render.hpp"
#include "mock/anthropic_request.hpp"
#include "mock/error_replies.hpp"
#include "mock/json_text.hpp"
#include "mock/plan_headers.hpp"
#include "mock/rate_limit_headers.hpp"
#include "mock/reply_plan.hpp"
#include "mock/request_json.hpp"
#include "mock/responder.hpp"

namespace sluice::mock {

Reply Responder::messages(const IncomingRequest& req, std::string_view request_id) {
  if (auto err = check_anthropic(req, request_id, true, true)) return std::move(*err);

  unsigned char buffer[4096];
  boost::json::monotonic_resource mr(buffer, sizeof buffer);
  boost::json::value body(&mr);
  if (auto err = parse_json_body(req.body, body)) {
    return anthropic_error_reply({400, "invalid_request_error", std::move(*err)}, request_id);
  }
  MessagesRequest mreq;
  if (auto err = read_messages_request(body, mreq)) return anthropic_error_reply(*err, request_id);
  double tps = options_.tokens_per_second;
  if (auto err = read_plan_headers(req, mreq.plan, tps)) {
    return anthropic_error_reply({400, "invalid_request_error", std::move(*err)}, request_id);
  }
  Faults faults;
  if (auto r = take_faults(req, false, request_id, faults)) return std::move(*r);

  ReplyPlan plan = make_plan(mreq.plan);
  assign_ids(plan, "toolu_");
  const std::string message_id = random_id("msg_", 24);

  Reply r;
  r.tokens_per_second = tps;
  r.output_tokens = plan.usage.output_tokens;
  if (mreq.stream) {
    r.streamed = true;
    r.add_header("content-type", "text/event-stream; charset=utf-8");
    r.add_header("cache-control", "no-cache");
    r.events = render_anthropic_stream(plan, message_id, mreq.model);
    const ApiError e = anthropic_stream_error(faults);
    r.error_event = render_anthropic_error_event(e.type, e.message);
    r.malformed = anthropic_malformed_events();
  } else {
    r.add_header("content-type", "application/json");
    r.body = render_anthropic_message(plan, message_id, mreq.model);
  }
  r.add_header("request-id", std::string(request_id));
  add_anthropic_rate_limit_headers(r, plan.usage.input_tokens, plan.usage.output_tokens, false);
  r.faults = std::move(faults);
  return r;
}

Reply Responder::count_tokens(const IncomingRequest& req, std::string_view request_id) {
  if (auto err = check_anthropic(req, request_id, true, true)) return std::move(*err);
  unsigned char buffer[4096];
  boost::json::monotonic_resource mr(buffer, sizeof buffer);
  boost::json::value body(&mr);
  if (auto err = parse_json_body(req.body, body)) {
    return anthropic_error_reply({400, "invalid_request_error", std::move(*err)}, request_id);
  }
  std::uint64_t tokens = 0;
  if (auto err = read_count_tokens_request(body, tokens)) return anthropic_error_reply(*err, request_id);
  Faults faults;
  if (auto r = take_faults(req, false, request_id, faults)) return std::move(*r);

  Reply r;
  r.add_header("content-type", "application/json");
  r.add_header("request-id", std::string(request_id));
  r.body = "{\"input_tokens\":";
  append_uint(r.body, tokens);
  r.body.push_back('}');
  r.faults = std::move(faults);
  return r;
}

}  // namespace sluice::mock
