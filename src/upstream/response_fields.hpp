#pragma once
// The header fields of an upstream response. A provider's answer carries about twenty headers
// (request-id, the anthropic-ratelimit-* set, ...); with std::allocator Beast allocated and
// freed each one, about 3 % of the gateway's CPU per request. They come from the response's
// own arena instead (client.hpp), freed in one go with it.

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include "common/arena_allocator.hpp"

namespace sluice::upstream {

using ResponseFields = boost::beast::http::basic_fields<ArenaAllocator<char>>;
using ResponseHead = boost::beast::http::response_header<ResponseFields>;

}  // namespace sluice::upstream
