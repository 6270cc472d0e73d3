#pragma once
// sluice client library: errors and Result<T>. Every call of the client returns a Result: the
// value, or an Error saying what failed (an API error with its HTTP status, error type and
// request id; a connection failure; a timeout; a broken stream). No call throws for a failure
// of the request; only programming errors (value() on an error) throw.
// Plain values: copy and use them on any thread.

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace sluice::client {

// What kind of failure an Error is.
enum class ErrorKind {
  Api,              // the API answered with an error status or an in-stream `event: error`
  Connection,       // could not connect, or the connection failed before a response arrived
  Timeout,          // a connect, first-byte, idle or total deadline passed
  StreamBroken,     // a stream ended without message_stop and could not be resumed
  InvalidResponse,  // the server's answer was not what the Messages API sends
  InvalidRequest,   // refused before sending (e.g. client-side redaction blocked a secret)
};

// Short stable name of the kind ("api", "connection", ...).
const char* kind_name(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::Api;
  int status = 0;          // HTTP status; 0 when no response head arrived. A mid-stream
                           // `event: error` keeps the stream's status (200).
  std::string type;        // API error type ("overloaded_error", "rate_limit_error", ...);
                           // empty for transport failures
  std::string message;     // human-readable, from the API body when there was one
  std::string request_id;  // the API's `request-id` (or the body's request_id), when known
  int attempts = 0;        // HTTP attempts made (1 + retries)

  // One line for logs: "api 529 overloaded_error: Overloaded (request_id req_..., 3 attempts)".
  std::string to_string() const;
};

// Thrown by Result::value() when it holds an error.
class BadResultAccess : public std::runtime_error {
 public:
  explicit BadResultAccess(const Error& e) : std::runtime_error(e.to_string()), error_(e) {}
  const Error& error() const { return error_; }

 private:
  Error error_;
};

// A value or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  // An error saying there is no result yet (Asio needs default-constructible results).
  Result() : v_(Error{ErrorKind::InvalidResponse, 0, "", "no result", "", 0}) {}
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  // The value; throws BadResultAccess when this holds an error.
  T& value() & { check(); return std::get<0>(v_); }
  const T& value() const& { check(); return std::get<0>(v_); }
  T&& value() && { check(); return std::get<0>(std::move(v_)); }
  // The error; only valid when !ok().
  const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void check() const {
    if (!ok()) throw BadResultAccess(std::get<1>(v_));
  }
  std::variant<T, Error> v_;
};

}  // namespace sluice::client
