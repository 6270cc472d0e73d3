#pragma once
// Options of `sluice mock` (and of the in-process mock provider). Plain data, copied into the
// Responder at construction.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace sluice::mock {

struct MockOptions {
  // Output pacing in tokens per second (one text delta = one token); 0 = as fast as possible.
  // The request header x-mock-tokens-per-second overrides it per request.
  double tokens_per_second = 0;
  // How many requests GET /_mock/requests keeps (oldest dropped first); 0 disables recording.
  std::size_t record_limit = 200;
  // Model ids served by GET /v1/models; empty = a built-in list of Claude models.
  std::vector<std::string> models;
  // When false, requests without credentials are accepted (the quickstart's local provider).
  bool require_auth = true;
  // When set, only this key (x-api-key or Bearer) is accepted; otherwise any non-empty key.
  std::string api_key;
  // How long stall-after-N holds a stream before dropping the connection.
  std::chrono::milliseconds stall_limit{10 * 60 * 1000};
};

}  // namespace sluice::mock
