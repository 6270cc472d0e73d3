#pragma once
// Per-request state of the gateway, owned by the handler's coroutine frame (Pingora's CTX).

#include <string>

#include "server/gateway.hpp"

namespace sluice::server {

struct Gateway::Exchange {
  std::string model;
  bool stream = false;
  int upstream_status = 0;
  int attempts = 0;
  std::string upstream_request_id;
  std::string error;  // kind name of the error that ended the request, if any
};

}  // namespace sluice::server
