#include "mock/responder.hpp"

#include <charconv>

#include "common/ids.hpp"
#include "mock/error_replies.hpp"
#include "mock/json_text.hpp"
#include "mock/rate_limit_headers.hpp"

namespace sluice::mock {
namespace {

constexpr std::string_view kMessages = "/v1/messages";
constexpr std::string_view kCountTokens = "/v1/messages/count_tokens";
constexpr std::string_view kModels = "/v1/models";
constexpr std::string_view kChat = "/v1/chat/completions";
constexpr std::string_view kMockPrefix = "/_mock/";

bool is_openai_path(std::string_view path) { return path.starts_with("/v1/chat/") || path.starts_with("/chat/"); }

std::string_view bearer_token(const IncomingRequest& req) {
  const std::string_view auth = trim(req.header("authorization"));
  if (auth.size() < 7 || !iequals(auth.substr(0, 7), "bearer ")) return {};
  return trim(auth.substr(7));
}

Reply json_reply(int status, std::string body) {
  Reply r;
  r.status = status;
  r.add_header("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

Reply not_found(std::string_view path, std::string_view method, std::string_view request_id) {
  if (is_openai_path(path)) {
    std::string msg = "Invalid URL (";
    msg.append(method);
    msg.push_back(' ');
    msg.append(path);
    msg.push_back(')');
    return openai_error_reply({404, "invalid_request_error", std::move(msg)}, request_id);
  }
  return anthropic_error_reply({404, "not_found_error", "Not Found"}, request_id);
}

Reply method_not_allowed(std::string_view path, std::string_view allow, std::string_view request_id) {
  Reply r = is_openai_path(path)
                ? openai_error_reply({405, "invalid_request_error", "Method Not Allowed"}, request_id)
                : anthropic_error_reply({405, "invalid_request_error", "Method Not Allowed"}, request_id);
  r.add_header("allow", std::string(allow));
  return r;
}

}  // namespace

Responder::Responder(MockOptions options)
    : options_(std::move(options)), catalog_(options_.models), recorder_(options_.record_limit) {}

Reply Responder::respond(const IncomingRequest& req) {
  std::string generated;
  std::string_view request_id = req.request_id;
  if (request_id.empty()) {
    generated = make_request_id();
    request_id = generated;
  }
  const std::string_view path = req.path();
  const std::string_view method = req.method;

  if (path == "/healthz") {
    if (method != "GET") return method_not_allowed(path, "GET", request_id);
    return json_reply(200, "{\"status\":\"ok\"}");
  }
  if (path.starts_with(kMockPrefix)) return mock_control(req, request_id);

  recorder_.record(req);
  if (path == kMessages) {
    if (method != "POST") return method_not_allowed(path, "POST", request_id);
    return messages(req, request_id);
  }
  if (path == kCountTokens) {
    if (method != "POST") return method_not_allowed(path, "POST", request_id);
    return count_tokens(req, request_id);
  }
  if (path == kModels || (path.starts_with(kModels) && path[kModels.size()] == '/')) {
    if (method != "GET") return method_not_allowed(path, "GET", request_id);
    std::string_view id = path.size() > kModels.size() ? path.substr(kModels.size() + 1) : std::string_view();
    if (path.size() > kModels.size() && id.empty()) return not_found(path, method, request_id);
    return models(req, request_id, id);
  }
  if (path == kChat) {
    if (method != "POST") return method_not_allowed(path, "POST", request_id);
    return chat_completions(req, request_id);
  }
  return not_found(path, method, request_id);
}

std::optional<Reply> Responder::check_anthropic(const IncomingRequest& req, std::string_view request_id,
                                                bool require_version, bool has_body) const {
  const std::string_view key = trim(req.header("x-api-key"));
  const std::string_view token = bearer_token(req);
  if (key.empty() && token.empty()) {
    if (options_.require_auth) {
      return anthropic_error_reply({401, "authentication_error", "x-api-key header is required"}, request_id);
    }
  } else if (!options_.api_key.empty() && key != options_.api_key && token != options_.api_key) {
    return anthropic_error_reply({401, "authentication_error", "invalid x-api-key"}, request_id);
  }
  if (require_version && trim(req.header("anthropic-version")).empty()) {
    return anthropic_error_reply({400, "invalid_request_error", "anthropic-version: header is required"}, request_id);
  }
  if (has_body) {
    const std::string_view ct = req.header("content-type");
    if (!ct.empty() && !icontains(ct, "json")) {
      return anthropic_error_reply(
          {415, "invalid_request_error", "Unsupported content-type: the request body must be application/json"},
          request_id);
    }
  }
  return std::nullopt;
}

std::optional<Reply> Responder::check_openai(const IncomingRequest& req, std::string_view request_id) const {
  const std::string_view token = bearer_token(req);
  if (token.empty()) {
    if (options_.require_auth) {
      return openai_error_reply(
          {401, "invalid_request_error",
           "You didn't provide an API key. You need to provide your API key in an Authorization header using "
           "Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from "
           "https://platform.openai.com/account/api-keys."},
          request_id);
    }
  } else if (!options_.api_key.empty() && token != options_.api_key) {
    return openai_error_reply({401, "invalid_request_error",
                               "Incorrect API key provided. You can find your API key at "
                               "https://platform.openai.com/account/api-keys.",
                               "invalid_api_key"},
                              request_id);
  }
  const std::string_view ct = req.header("content-type");
  if (!ct.empty() && !icontains(ct, "json")) {
    return openai_error_reply({415, "invalid_request_error", "Unsupported content type: expected application/json"},
                              request_id);
  }
  return std::nullopt;
}

std::optional<Reply> Responder::take_faults(const IncomingRequest& req, bool openai, std::string_view request_id,
                                            Faults& faults) {
  const FaultHeaders h{req.header("x-mock-fault"),         req.header("x-mock-retry-after"),
                       req.header("x-mock-delay-ms"),      req.header("x-mock-error-type"),
                       req.header("x-mock-error-message"), req.header("x-mock-fail-times"),
                       req.header("x-mock-fault-key")};
  if (auto err = parse_faults(h, faults)) {
    ApiError e{400, "invalid_request_error", std::move(*err)};
    return openai ? openai_error_reply(e, request_id) : anthropic_error_reply(e, request_id);
  }
  if (faults.fail_times && !fail_counter_.should_fail(faults.fault_key, *faults.fail_times)) {
    faults = Faults{};
    return std::nullopt;
  }
  if (faults.status == 0) return std::nullopt;

  const ApiError e = openai ? openai_status_error(faults.status, faults) : anthropic_status_error(faults.status, faults);
  Reply r = openai ? openai_error_reply(e, request_id) : anthropic_error_reply(e, request_id);
  const bool limited = faults.status == 429;
  if (openai) {
    add_openai_rate_limit_headers(r, 0, limited);
  } else {
    add_anthropic_rate_limit_headers(r, 0, 0, limited);
  }
  if (faults.retry_after_seconds) {
    add_retry_after(r, *faults.retry_after_seconds);
  } else if (limited) {
    add_retry_after(r, 1);
  }
  r.faults.slow_first_byte = faults.slow_first_byte;
  r.faults.first_byte_delay = faults.first_byte_delay;
  return r;
}

Reply Responder::models(const IncomingRequest& req, std::string_view request_id, std::string_view model_id) {
  // One path, two APIs: OpenAI clients send a Bearer token and no anthropic-version.
  const bool openai = !req.has_header("anthropic-version") && !req.has_header("x-api-key") &&
                      !bearer_token(req).empty();
  if (openai) {
    if (auto err = check_openai(req, request_id)) return std::move(*err);
  } else if (auto err = check_anthropic(req, request_id, false, false)) {
    return std::move(*err);
  }
  Faults faults;
  if (auto r = take_faults(req, openai, request_id, faults)) return std::move(*r);

  Reply r;
  if (model_id.empty()) {
    if (openai) {
      r = json_reply(200, catalog_.openai_list());
    } else {
      std::size_t limit = 20;
      if (const std::string_view l = query_param(req.query(), "limit"); !l.empty()) {
        const auto n = parse_u32(l);
        if (!n || *n < 1 || *n > 1000) {
          return anthropic_error_reply(
              {400, "invalid_request_error", "limit: Input should be greater than or equal to 1 and less than or equal to 1000"},
              request_id);
        }
        limit = *n;
      }
      r = json_reply(200, catalog_.anthropic_list(limit, query_param(req.query(), "after_id"),
                                                  query_param(req.query(), "before_id")));
    }
  } else {
    const ModelInfo* m = catalog_.find(model_id);
    if (!m) {
      std::string msg = "model: ";
      msg.append(sanitize_utf8(model_id));
      return openai ? openai_error_reply({404, "invalid_request_error", "The model '" + sanitize_utf8(model_id) +
                                                                           "' does not exist",
                                          "model_not_found"},
                                         request_id)
                    : anthropic_error_reply({404, "not_found_error", std::move(msg)}, request_id);
    }
    if (openai) {
      std::string body = "{\"id\":";
      append_json_string(body, m->id);
      body.append(",\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"sluice-mock\"}");
      r = json_reply(200, std::move(body));
    } else {
      r = json_reply(200, catalog_.anthropic_model(*m));
    }
  }
  r.add_header(openai ? "x-request-id" : "request-id", std::string(request_id));
  r.faults = faults;
  return r;
}

Reply Responder::mock_control(const IncomingRequest& req, std::string_view request_id) {
  const std::string_view path = req.path();
  if (path == "/_mock/requests") {
    if (req.method == "GET") return json_reply(200, recorder_.to_json());
    if (req.method == "DELETE") {
      recorder_.clear();
      return json_reply(200, "{\"deleted\":true}");
    }
    return method_not_allowed(path, "GET, DELETE", request_id);
  }
  if (path == "/_mock/fail-counters") {
    if (req.method == "DELETE") {
      fail_counter_.clear();
      return json_reply(200, "{\"deleted\":true}");
    }
    return method_not_allowed(path, "DELETE", request_id);
  }
  return not_found(path, req.method, request_id);
}

}  // namespace sluice::mock
