#pragma once
// Model-name patterns of the config (price rules, the context window table, routes).

#include <string_view>

namespace sluice {

// '*' matches any run of characters; everything else matches itself.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace sluice
