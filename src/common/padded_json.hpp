#pragma once
// simdjson reads SIMDJSON_PADDING bytes past the end of a document; given an unpadded view it
// would allocate and copy a padded one on every call. padded_copy() copies `text` into one
// buffer per thread, reused (the copy is cheap next to the allocation it saves). Header-only:
// for code that already links simdjson. The returned pointer is valid until the next call on
// the same thread.

#include <cstring>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace sluice {

inline const char* padded_copy(std::string_view text) {
  thread_local std::string padded;
  if (padded.size() < text.size() + simdjson::SIMDJSON_PADDING) padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded.data(), text.data(), text.size());
  return padded.data();
}

// A DOM parse of `text` with a per-thread parser.
inline simdjson::error_code parse_padded(std::string_view text, simdjson::dom::element& doc) {
  thread_local simdjson::dom::parser parser;
  return parser.parse(padded_copy(text), text.size(), false).get(doc);
}

}  // namespace sluice
