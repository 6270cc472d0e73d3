// Fuzzes the redaction engine (src/stages/redact/) with the default rules. On any bytes:
//   - scan() finds the same as scan_reference_for_test() (the prefilter never loses a match);
//   - findings are in bounds, non-empty, sorted, non-overlapping, and do not start or end inside
//     a UTF-8 sequence;
//   - redact() gives the text with each Redact/Block finding replaced by its marker (then, if the
//     new context reveals more, further rounds), and leaves no Redact finding's secret behind
//     (outside the markers);
//   - redacting the result again changes nothing;
//   - with every rule set to Block, redact() reports a block exactly when something was found,
//     and with every rule set to Log it never changes the text.
// Any violation calls abort() with a message on stderr.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "stages/redact/engine.hpp"

using namespace sluice::stages::redact;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "redact_fuzz: %s\n", what);
  std::abort();
}

Engine with_all(Action action) {
  std::vector<Rule> rules = default_rules();
  for (Rule& r : rules) {
    if (r.action == Action::Redact) r.action = action;
  }
  return Engine::compile(std::move(rules));
}

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::size_t count(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

// The text with every marker "[REDACTED:...]" replaced by one \x01, so that no secret can be
// "found" spanning a marker or inside one.
std::string without_markers(std::string_view text) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    std::size_t open = text.find("[REDACTED:", at);
    std::size_t close = open == std::string_view::npos ? open : text.find(']', open);
    if (close == std::string_view::npos) {
      out.append(text.substr(at));
      return out;
    }
    out.append(text.substr(at, open - at));
    out.push_back('\x01');
    at = close + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Engine engine = Engine::compile(default_rules());
  static const Engine blocking = with_all(Action::Block);
  static const Engine logging = with_all(Action::Log);
  const std::string text(reinterpret_cast<const char*>(data), size);

  const auto findings = engine.scan(text);
  const auto reference = engine.scan_reference_for_test(text);
  if (findings.size() != reference.size()) fail("scan and reference differ in count");
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const auto& f = findings[i];
    const auto& r = reference[i];
    if (f.offset != r.offset || f.length != r.length || f.type != r.type || f.action != r.action) {
      fail("scan and reference differ");
    }
    if (f.length == 0 || f.offset + f.length > text.size()) fail("finding out of bounds or empty");
    if (i > 0 && findings[i - 1].offset + findings[i - 1].length > f.offset) fail("findings overlap or unsorted");
    if (f.offset > 0 && continuation(text[f.offset])) fail("finding starts inside a UTF-8 sequence");
    const std::size_t end = f.offset + f.length;
    if (end < text.size() && continuation(text[end])) fail("finding ends inside a UTF-8 sequence");
  }

  // redact() is exactly the splice of the findings.
  std::string expected;
  std::size_t at = 0;
  for (const auto& f : findings) {
    if (f.action == Action::Log) continue;
    expected.append(text, at, f.offset - at);
    expected += marker(f.type);
    at = f.offset + f.length;
  }
  expected.append(text, at, std::string::npos);
  std::string redacted = text;
  const auto outcome = engine.redact(redacted);
  const bool more_rounds = !engine.scan(expected).empty();
  if (!more_rounds && redacted != expected) fail("redact() differs from the splice of scan()");
  if (outcome.changed != (redacted != text)) fail("changed flag wrong");
  int counted = 0;
  for (const auto& c : outcome.counts) counted += c.count;
  if (!more_rounds && static_cast<std::size_t>(counted) != findings.size()) fail("counts do not add up to the findings");
  if (static_cast<std::size_t>(counted) < findings.size()) fail("fewer counts than findings");

  // No secret left behind: each found secret occurs less often than before (markers aside).
  const std::string plain = without_markers(redacted);
  for (const auto& f : findings) {
    std::string_view secret = std::string_view(text).substr(f.offset, f.length);
    if (f.action != Action::Redact || secret.size() < 4 || secret.find('\x01') != std::string_view::npos) continue;
    if (count(plain, secret) >= count(text, secret)) fail("a redacted secret is still in the output");
  }

  // Idempotent.
  std::string twice = redacted;
  if (engine.redact(twice).changed || twice != redacted) fail("redacting twice changed the text");

  // Block reports exactly when something is found; Log never changes the text.
  std::string b = text;
  if (blocking.redact(b).blocked != !findings.empty()) fail("block flag wrong");
  std::string l = text;
  auto logged = logging.redact(l);
  if (logged.changed || l != text || logged.blocked) fail("log-only changed the text");
  return 0;
}
