#include "common/glob.hpp"

namespace sluice {

bool glob_match(std::string_view pattern, std::string_view text) {
  // The literal run before the first '*' is compared in one go: most patterns are a model id or
  // "prefix*", and a request's model is looked up in the price rules, the routes and the
  // context-window table, usually failing on a few patterns first (callgrind: 830 -> ~200
  // instructions to price claude-sonnet-4-5 against the built-in rules).
  const std::size_t first_star = pattern.find('*');
  const std::string_view head = pattern.substr(0, first_star);
  if (text.substr(0, head.size()) != head) return false;
  if (first_star == std::string_view::npos) return text.size() == head.size();
  if (first_star + 1 == pattern.size()) return true;
  // Iterative wildcard matching with one backtrack point: linear for the patterns used here.
  std::size_t p = first_star, t = head.size(), star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace sluice
