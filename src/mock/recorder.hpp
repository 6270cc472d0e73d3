#pragma once
// Keeps the last N requests the mock received, for GET /_mock/requests, so tests can check what
// a gateway forwarded (credentials, anthropic-beta, query string, body). Copies are taken when
// a request is recorded; JSON is built only when it is read.
// Thread-safe: one mutex guards the ring; record() is called from every worker thread.

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "mock/incoming_request.hpp"

namespace sluice::mock {

class Recorder {
 public:
  explicit Recorder(std::size_t limit) : limit_(limit) {}

  void record(const IncomingRequest& req);
  // A JSON array, oldest first: [{"method","target","request_id","headers":{name: value},
  // "body": <parsed JSON, or the raw string when it is not JSON, or null when empty>}].
  // Header names are lower-cased; repeated headers are joined with ", ".
  std::string to_json() const;
  void clear();
  std::size_t size() const;

 private:
  struct Entry {
    std::string method;
    std::string target;
    std::string request_id;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };

  const std::size_t limit_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;
};

}  // namespace sluice::mock
