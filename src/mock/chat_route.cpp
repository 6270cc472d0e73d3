// Responder: POST /v1/chat/completions (OpenAI dialect).

#include <chrono>

#include <boost/json/monotonic_resource.hpp>

#include "common/ids.hpp"
#include "mock/error_replies.hpp"
#include "mock/openai_render.hpp"
#include "mock/openai_request.hpp"
#include "mock/plan_headers.hpp"
#include "mock/rate_limit_headers.hpp"
#include "mock/reply_plan.hpp"
#include "mock/request_json.hpp"
#include "mock/responder.hpp"

namespace sluice::mock {

Reply Responder::chat_completions(const IncomingRequest& req, std::string_view request_id) {
  if (auto err = check_openai(req, request_id)) return std::move(*err);

  unsigned char buffer[4096];
  boost::json::monotonic_resource mr(buffer, sizeof buffer);
  boost::json::value body(&mr);
  if (auto err = parse_json_body(req.body, body)) {
    // OpenAI's own wording for an unparseable body.
    std::string msg = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
                      "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
                      "valid JSON.) ";
    msg.append(*err);
    return openai_error_reply({400, "invalid_request_error", std::move(msg)}, request_id);
  }
  ChatRequest creq;
  if (auto err = read_chat_request(body, creq)) return openai_error_reply(*err, request_id);
  double tps = options_.tokens_per_second;
  if (auto err = read_plan_headers(req, creq.plan, tps)) {
    return openai_error_reply({400, "invalid_request_error", std::move(*err)}, request_id);
  }
  Faults faults;
  if (auto r = take_faults(req, true, request_id, faults)) return std::move(*r);

  ReplyPlan plan = make_plan(creq.plan);
  assign_ids(plan, "call_");
  const std::string id = random_id("chatcmpl-", 29);
  const ChatMeta meta{id, creq.model,
                      std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count(),
                      creq.include_usage};

  Reply r;
  r.tokens_per_second = tps;
  r.output_tokens = plan.usage.output_tokens;
  if (creq.stream) {
    r.streamed = true;
    r.add_header("content-type", "text/event-stream; charset=utf-8");
    r.add_header("cache-control", "no-cache");
    r.events = render_chat_chunks(plan, meta);
    const ApiError e = openai_stream_error(faults);
    r.error_event = render_chat_error_event(e.message, e.type);
    r.malformed = chat_malformed_events();
  } else {
    r.add_header("content-type", "application/json");
    r.body = render_chat_completion(plan, meta);
  }
  r.add_header("x-request-id", std::string(request_id));
  add_openai_rate_limit_headers(r, plan.usage.input_tokens + plan.usage.output_tokens, false);
  r.faults = std::move(faults);
  return r;
}

}  // namespace sluice::mock
