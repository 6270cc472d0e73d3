#pragma once
// The mock's request → reply logic, free of I/O: routing, authentication and validation in each
// dialect, fault-header parsing, the per-key fail counters, the request recorder, and rendering
// the deterministic reply. MockService feeds it requests and sends what it returns.
// Thread-safe: respond() may run concurrently on every worker thread (the recorder and the fail
// counters lock; everything else is per request or immutable).

#include <string_view>

#include "mock/fail_counter.hpp"
#include "mock/incoming_request.hpp"
#include "mock/mock_options.hpp"
#include "mock/models.hpp"
#include "mock/recorder.hpp"
#include "mock/reply.hpp"

namespace sluice::mock {

class Responder {
 public:
  explicit Responder(MockOptions options);

  Reply respond(const IncomingRequest& req);

  const MockOptions& options() const { return options_; }
  Recorder& recorder() { return recorder_; }

 private:
  Reply messages(const IncomingRequest& req, std::string_view request_id);
  Reply count_tokens(const IncomingRequest& req, std::string_view request_id);
  Reply models(const IncomingRequest& req, std::string_view request_id, std::string_view model_id);
  Reply chat_completions(const IncomingRequest& req, std::string_view request_id);
  Reply mock_control(const IncomingRequest& req, std::string_view request_id);

  // Credentials, anthropic-version and content-type of an Anthropic POST; an error reply or none.
  std::optional<Reply> check_anthropic(const IncomingRequest& req, std::string_view request_id,
                                       bool require_version, bool has_body) const;
  std::optional<Reply> check_openai(const IncomingRequest& req, std::string_view request_id) const;
  // Parses the fault headers and consults the fail counter. Returns an error reply for a
  // malformed header or an injected status; otherwise fills `faults` with the active faults.
  std::optional<Reply> take_faults(const IncomingRequest& req, bool openai, std::string_view request_id,
                                   Faults& faults);

  MockOptions options_;
  ModelCatalog catalog_;
  Recorder recorder_;
  FailCounter fail_counter_;
};

}  // namespace sluice::mock
