#pragma once
// Random identifiers. Thread-safe: each thread has its own generator, seeded from the OS.

#include <string>

namespace sluice {

// A request id in the style of Anthropic's (`req_` + 24 base62 characters), unique per request.
std::string make_request_id();
// `prefix` followed by `n` random base62 characters.
std::string random_id(const char* prefix, std::size_t n);

}  // namespace sluice
