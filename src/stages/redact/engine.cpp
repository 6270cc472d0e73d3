// How a scan runs. RE2's DFA reads ~1.5 ns/byte on this machine even for a trivial pattern, so a
// design with one DFA pass per rule, or even one for all rules, misses 500 MB/s. Instead every
// default rule says where its matches start: at one of its literal prefixes ("sk-ant-", "AKIA",
// "-----BEGIN", "password=", "s://"), or where a long base64 run starts. A SIMD prefilter
// (Teddy, 32 windows at a time with AVX2; otherwise a Bloom filter, window by window) finds the
// 4-byte windows that may start a prefix, a trie confirms the prefix, and RE2 runs for that rule
// anchored there; a second pass classifies 16-byte blocks to find base64 runs. Rules that may
// match anywhere (custom rules without prefixes) take the slow path: an RE2::Set pass for all of
// them says which match, and each of those then runs unanchored. RE2 automata do all matching.
// Figures and the designs measured against this one: bench/redact_bench.cpp.
#include "stages/redact/engine.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <numeric>
#include <stdexcept>

#include "stages/redact/checks.hpp"

namespace sluice::stages::redact {

namespace {

// Memory budgets: a rule's automata, and the set's (all rules in one DFA, many more states).
// When a DFA fills its budget it starts over; the set gives up if that happens too often, and
// scan() then runs every rule (correct, slower).
constexpr std::int64_t kRuleMaxMem = 8 << 20;
constexpr std::int64_t kSetMaxMem = 64 << 20;

RE2::Options options(std::int64_t max_mem) {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingLatin1);  // bytes: smaller automata than UTF-8 classes
  o.set_log_errors(false);
  o.set_max_mem(max_mem);
  return o;
}

// RE2's own messages quote the pattern; these do not (a custom pattern may hold a secret).
const char* describe(RE2::ErrorCode code) {
  switch (code) {
    case RE2::NoError: return "no error";
    case RE2::ErrorInternal: return "internal RE2 error";
    case RE2::ErrorBadEscape: return "bad escape sequence";
    case RE2::ErrorBadCharClass: return "bad character class";
    case RE2::ErrorBadCharRange: return "bad character class range";
    case RE2::ErrorMissingBracket: return "missing closing ]";
    case RE2::ErrorMissingParen: return "missing closing )";
    case RE2::ErrorUnexpectedParen: return "unexpected closing )";
    case RE2::ErrorTrailingBackslash: return "trailing \\ at end of pattern";
    case RE2::ErrorRepeatArgument: return "repetition operator without an argument";
    case RE2::ErrorRepeatSize: return "bad repetition count (at most 1000)";
    case RE2::ErrorRepeatOp: return "bad repetition operator";
    case RE2::ErrorBadPerlOp: return "unsupported Perl syntax (RE2 has no lookaround or backreferences)";
    case RE2::ErrorBadUTF8: return "invalid UTF-8 in pattern";
    case RE2::ErrorBadNamedCapture: return "bad named capture group";
    case RE2::ErrorPatternTooLarge: return "pattern too large";
  }
  return "invalid pattern";
}

[[noreturn]] void bad_rule(const std::string& type, const std::string& what) {
  throw std::invalid_argument("redaction rule '" + type + "': " + what);
}

bool valid_type(const std::string& type) {
  if (type.empty() || type.size() > 64) return false;
  for (char c : type) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// True if the pattern can match the empty string (found by probing a few short texts): such a
// rule would "find" nothing at every position.
bool matches_empty(const RE2& re) {
  for (const char* probe : {"", "a", " ", "a a", "0", "_", "\n"}) {
    re2::StringPiece text(probe);
    re2::StringPiece m;
    for (std::size_t pos = 0; pos <= text.size(); ++pos) {
      if (re.Match(text, pos, text.size(), RE2::UNANCHORED, &m, 1) && m.empty()) return true;
    }
  }
  return false;
}

constexpr std::string_view kMarkerOpen = "[REDACTED:";

// Rounds of redact(): each replaces at least one byte that is not in a marker, so there is a
// fixed point; in practice the second round finds nothing or the last few pieces.
constexpr int kMaxRounds = 4;

// A candidate already redacted, or lying inside a marker: skipped so redaction is idempotent.
bool touches_marker(std::string_view text, std::size_t begin, std::size_t end) {
  if (text.substr(begin, end - begin).find(kMarkerOpen) != std::string_view::npos) return true;
  std::size_t from = begin > 80 ? begin - 80 : 0;
  std::size_t open = text.substr(from, begin - from + 1).rfind(kMarkerOpen.substr(0, 1));
  if (open == std::string_view::npos) return false;
  open += from;
  if (text.substr(open, kMarkerOpen.size()) != kMarkerOpen) return false;
  std::size_t close = text.find(']', open);
  return close != std::string_view::npos && close >= begin;
}

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Never cut a UTF-8 sequence: widen [begin, end) to whole characters.
void widen_to_utf8(std::string_view text, std::size_t& begin, std::size_t& end) {
  if (end <= begin) return;
  while (begin > 0 && continuation(text[begin])) --begin;
  while (end < text.size() && continuation(text[end])) ++end;
}

constexpr std::array<char, 256> kLower = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return t;
}();
char lower(char c) { return kLower[static_cast<unsigned char>(c)]; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

constexpr std::array<std::uint8_t, 256> kBase64 = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<std::size_t>(c)] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                     c == '+' || c == '/';
  }
  return t;
}();

// True if the n bytes at p are all base64 ([A-Za-z0-9+/]).
bool all_base64(const unsigned char* p, std::size_t n) {
#if defined(__x86_64__)
  if (n == 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i folded = _mm_or_si128(x, _mm_set1_epi8(0x20));
    const __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8('a' - 1)),
                                        _mm_cmplt_epi8(folded, _mm_set1_epi8('z' + 1)));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
    const __m128i sign = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('+')), _mm_cmpeq_epi8(x, _mm_set1_epi8('/')));
    return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(alpha, digit), sign)) == 0xFFFF;
  }
#endif
  unsigned all = 1;
  for (std::size_t k = 0; k < n; ++k) all &= kBase64[p[k]];
  return all != 0;
}

}  // namespace

struct Engine::Impl {
  struct Compiled {
    std::string type;
    Action action;
    Check check;
    std::unique_ptr<RE2> re;
    int groups;  // capturing groups of the pattern
  };
  // A match that passed its check: [begin, end) of the text, by rule index.
  struct Raw {
    std::size_t begin;
    std::size_t end;
    int rule;
  };
  // A trie of every rule's prefixes, in ASCII lower case. Node 0 is the root.
  struct Node {
    std::vector<std::pair<char, int>> children;  // by byte, sorted
    std::vector<int> rules;                      // rules with a prefix ending here
  };
  // The state of one scan.
  struct Scan {
    std::string_view text;
    std::vector<re2::StringPiece> groups;
    std::vector<std::size_t> resume;  // per rule: where its next match may start
    std::vector<Raw> raw;
  };

  std::vector<Compiled> rules;
  int max_groups = 0;
  // Fast path.
  std::vector<std::uint64_t> bitmap;  // 1 << kHashBits bits: Bloom filter of the prefixes' first 4 bytes
  std::vector<Node> trie{1};          // as built; frozen into the arrays below for scanning
  struct Flat {
    std::uint32_t children;  // index in child_byte / child_node
    std::uint32_t rules;     // index in node_rules
    std::uint16_t n_children;
    std::uint16_t n_rules;
  };
  std::vector<Flat> flat;
  std::vector<char> child_byte;
  std::vector<std::uint32_t> child_node;
  std::vector<int> node_rules;
  std::array<std::uint32_t, 256> root{};  // first byte -> node + 1 (0: none)
  void freeze_trie();
  std::vector<int> run_rules;         // rules with a base64 run
  std::size_t min_run = 0;            // the shortest run any of them needs
  // The SIMD prefilter in front of the bitmap ("Teddy", after Hyperscan): for each of the 4 bytes
  // of a window and each of 16 buckets of prefix heads, which buckets allow a byte with this low
  // nibble, and which with this high nibble. A window is a candidate when some bucket allows all
  // 4 bytes. Heads fold case as window_hash() does, so no prefix occurrence is ever missed.
  struct Teddy {
    alignas(16) std::uint8_t lo[4][2][16];  // [byte of the window][bucket set][nibble]: buckets
    alignas(16) std::uint8_t hi[4][2][16];
  };
  Teddy teddy{};
  bool use_avx2 = false;
  void build_teddy();
  void scan_windows(Scan& s) const;
#if defined(__x86_64__)
  __attribute__((target("avx2"))) std::size_t scan_windows_avx2(Scan& s) const;
#endif
  std::vector<std::uint32_t> heads;  // distinct first 4 bytes of the prefixes, bit 5 set

  // Slow path: the rules that may match anywhere.
  std::vector<int> anywhere;
  std::unique_ptr<RE2::Set> anywhere_set;
  // Reference path (tests): every rule; built on first use.
  mutable std::once_flag reference_once;
  mutable std::unique_ptr<RE2::Set> reference_set;

  static constexpr int kHashBits = 17;  // 16 KiB of bitmap: stays in L1 next to the text
  static constexpr std::uint32_t kHashA = 0x9E3779B1u;
  static constexpr std::uint32_t kHashB = 0x85EBCA77u;
  static std::uint32_t window_hash(std::uint32_t four_bytes, std::uint32_t multiplier) {
    // Letters folded to lower case by setting bit 5 (other bytes change too, alike in text and
    // prefix, which only adds candidates that the trie then drops).
    return ((four_bytes | 0x20202020u) * multiplier) >> (32 - kHashBits);
  }

  std::size_t accept(Scan& s, int index) const;
  void try_at(Scan& s, int index, std::size_t pos) const;
  void on_window(Scan& s, std::size_t pos) const;
  void add_prefix(const std::string& prefix, int rule);
  void scan_rule(Scan& s, int index) const;
  void scan_set(Scan& s, const RE2::Set& set, const std::vector<int>& members) const;
  std::vector<Raw> scan(std::string_view text) const;
  std::vector<Raw> scan_reference(std::string_view text) const;
  static std::vector<Raw> resolve(std::vector<Raw> raw);
};

// Records the match in s.groups (if it passes), returns where the next match of the rule may
// start.
std::size_t Engine::Impl::accept(Scan& s, int index) const {
  const Compiled& r = rules[static_cast<std::size_t>(index)];
  const std::string_view text = s.text;
  const auto mb = static_cast<std::size_t>(s.groups[0].data() - text.data());
  const std::size_t me = mb + s.groups[0].size();
  std::size_t sb = mb;
  std::size_t se = me;
  for (int g = 1; g <= r.groups; ++g) {
    const re2::StringPiece& group = s.groups[static_cast<std::size_t>(g)];
    if (group.data() != nullptr) {
      sb = static_cast<std::size_t>(group.data() - text.data());
      se = sb + group.size();
      break;
    }
  }
  widen_to_utf8(text, sb, se);
  if (se > sb && !touches_marker(text, sb, se) && passes(r.check, text, Span{mb, me, sb, se})) {
    s.raw.push_back(Raw{sb, se, index});
  }
  return me > mb ? me : mb + 1;
}

namespace {

// The value of an assignment match [mb, me) when it can be read off the match alone (see
// try_at): a quoted value, an XML element's text, or a bare value after a space. Empty when it
// cannot be told without the capture groups (`token=abc`, where the bare run starts at the key).
std::pair<std::size_t, std::size_t> quick_value(std::string_view text, std::size_t mb, std::size_t me) {
  if (me - mb < 3) return {0, 0};
  const char last = text[me - 1];
  if (last == '"' || last == '\'' || last == '`') {
    std::size_t end = me - 1;
    if (last != '`' && text[end - 1] == '\\') --end;  // \"value\"
    std::size_t begin = end;
    while (begin > mb && text[begin - 1] != last && text[begin - 1] != '\\' && !is_space(text[begin - 1])) --begin;
    if (begin <= mb || begin == end || text[begin - 1] != last) return {0, 0};
    return {begin, end};
  }
  if (last == '/' && text[me - 2] == '<') {  // <password>value</
    std::size_t end = me - 2;
    std::size_t begin = end;
    while (begin > mb && text[begin - 1] != '>' && text[begin - 1] != '<' && !is_space(text[begin - 1])) --begin;
    if (begin <= mb || begin == end || text[begin - 1] != '>') return {0, 0};
    return {begin, end};
  }
  // Bare: the run of value bytes ending the match, if a space comes before it and it holds
  // neither the key nor an operator.
  std::size_t begin = me;
  while (begin > mb && !is_space(text[begin - 1])) --begin;
  if (begin <= mb || begin == me) return {0, 0};
  const char first = text[begin];
  if (first == '=' || first == ':' || first == '>') return {0, 0};
  return {begin, me};
}

}  // namespace

// The rule's match anchored at pos, if any; a rule's matches never overlap each other, as with
// an unanchored search that resumes at the end of each match. The DFA alone finds the span
// (~100 ns); capture groups cost 4-6 times that, so they run only on that span, and for
// assignments only when the value read off the span passes the check (in code, most do not:
// `password: string`, `token = next_token(...)`).
void Engine::Impl::try_at(Scan& s, int index, std::size_t pos) const {
  std::size_t& resume = s.resume[static_cast<std::size_t>(index)];
  if (pos < resume) return;
  const Compiled& r = rules[static_cast<std::size_t>(index)];
  const re2::StringPiece input(s.text.data(), s.text.size());
  if (!r.re->Match(input, pos, s.text.size(), RE2::ANCHOR_START, s.groups.data(), 1)) return;
  if (r.groups > 0) {
    const auto mb = static_cast<std::size_t>(s.groups[0].data() - s.text.data());
    const std::size_t me = mb + s.groups[0].size();
    if (r.check == Check::Password || r.check == Check::SecretValue) {
      auto [vb, ve] = quick_value(s.text, mb, me);
      widen_to_utf8(s.text, vb, ve);  // as accept() will
      if (ve > vb && !passes(r.check, s.text, Span{mb, me, vb, ve})) {
        resume = me > mb ? me : mb + 1;
        return;
      }
    }
    if (!r.re->Match(input, mb, me, RE2::ANCHOR_BOTH, s.groups.data(), 1 + r.groups)) return;  // cannot happen
  }
  resume = accept(s, index);
}

// A window whose hash is a prefix's: walk the trie along the text, trying each rule whose prefix
// ends on the way (each once).
void Engine::Impl::on_window(Scan& s, std::size_t pos) const {
  const std::size_t n = s.text.size();
  std::uint32_t node = root[static_cast<unsigned char>(s.text[pos])];
  if (node == 0) return;
  --node;
  int tried[8];
  int n_tried = 0;
  for (std::size_t i = pos + 1;; ++i) {
    const Flat& f = flat[node];
    for (std::uint32_t k = 0; k < f.n_rules; ++k) {
      const int r = node_rules[f.rules + k];
      if (std::find(tried, tried + n_tried, r) != tried + n_tried) continue;
      if (n_tried < 8) tried[n_tried++] = r;
      try_at(s, r, pos);
    }
    if (i >= n || f.n_children == 0) return;
    const char c = lower(s.text[i]);
    const char* bytes = child_byte.data() + f.children;
    std::uint32_t k = 0;
    while (k < f.n_children && bytes[k] != c) ++k;
    if (k == f.n_children) return;
    node = child_node[f.children + k];
  }
}

void Engine::Impl::freeze_trie() {
  flat.assign(trie.size(), Flat{});
  child_byte.clear();
  child_node.clear();
  node_rules.clear();
  for (std::size_t i = 0; i < trie.size(); ++i) {
    flat[i].children = static_cast<std::uint32_t>(child_byte.size());
    flat[i].n_children = static_cast<std::uint16_t>(trie[i].children.size());
    for (const auto& [c, child] : trie[i].children) {
      child_byte.push_back(c);
      child_node.push_back(static_cast<std::uint32_t>(child));
    }
    flat[i].rules = static_cast<std::uint32_t>(node_rules.size());
    flat[i].n_rules = static_cast<std::uint16_t>(trie[i].rules.size());
    node_rules.insert(node_rules.end(), trie[i].rules.begin(), trie[i].rules.end());
  }
  root.fill(0);
  for (const auto& [c, child] : trie[0].children) {
    root[static_cast<unsigned char>(c)] = static_cast<std::uint32_t>(child) + 1;
    if (c >= 'a' && c <= 'z') root[static_cast<unsigned char>(c - 'a' + 'A')] = static_cast<std::uint32_t>(child) + 1;
  }
}

void Engine::Impl::add_prefix(const std::string& prefix, int rule) {
  int node = 0;
  for (char raw : prefix) {
    const char c = lower(raw);
    auto& kids = trie[static_cast<std::size_t>(node)].children;
    auto it = std::lower_bound(kids.begin(), kids.end(), c,
                               [](const std::pair<char, int>& k, char x) { return k.first < x; });
    if (it != kids.end() && it->first == c) {
      node = it->second;
      continue;
    }
    const int child = static_cast<int>(trie.size());
    kids.insert(it, {c, child});
    trie.emplace_back();
    node = child;
  }
  auto& rules_here = trie[static_cast<std::size_t>(node)].rules;
  if (std::find(rules_here.begin(), rules_here.end(), rule) == rules_here.end()) rules_here.push_back(rule);
  std::uint32_t four;
  std::memcpy(&four, prefix.data(), 4);
  if (std::find(heads.begin(), heads.end(), four | 0x20202020u) == heads.end()) heads.push_back(four | 0x20202020u);
  for (std::uint32_t m : {kHashA, kHashB}) {
    const std::uint32_t h = window_hash(four, m);
    bitmap[h >> 6] |= std::uint64_t{1} << (h & 63);
  }
}

// Every match of one rule, by unanchored search (the slow path).
void Engine::Impl::scan_rule(Scan& s, int index) const {
  const Compiled& r = rules[static_cast<std::size_t>(index)];
  const re2::StringPiece input(s.text.data(), s.text.size());
  std::size_t pos = 0;
  while (pos <= s.text.size() &&
         r.re->Match(input, pos, s.text.size(), RE2::UNANCHORED, s.groups.data(), 1 + r.groups)) {
    pos = accept(s, index);
  }
}

void Engine::Impl::scan_set(Scan& s, const RE2::Set& set, const std::vector<int>& members) const {
  std::vector<int> hits;
  RE2::Set::ErrorInfo info{RE2::Set::kNoError};
  if (!set.Match(re2::StringPiece(s.text.data(), s.text.size()), &hits, &info)) {
    if (info.kind == RE2::Set::kNoError) return;  // none matches anywhere
    hits.resize(members.size());                  // the set gave up: try every member
    std::iota(hits.begin(), hits.end(), 0);
  }
  std::sort(hits.begin(), hits.end());
  for (int h : hits) scan_rule(s, members[static_cast<std::size_t>(h)]);
}

std::vector<Engine::Impl::Raw> Engine::Impl::scan(std::string_view text) const {
  Scan s{text, std::vector<re2::StringPiece>(static_cast<std::size_t>(1 + max_groups)),
         std::vector<std::size_t>(rules.size(), 0), {}};
  if (rules.empty() || text.empty()) return {};
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  // Base64 runs. A run of at least min_run >= 32 bytes holds a whole aligned block of 16 bytes,
  // so only those blocks are classified (with SSE2, 16 bytes at a time) and a block of nothing
  // but base64 is widened to its run.
  if (!run_rules.empty()) {
    const std::size_t block = min_run >= 32 ? 16 : std::max<std::size_t>(1, min_run / 2);
    std::size_t j = 0;
    while (j + block <= n) {
      if (!all_base64(p + j, block)) {
        j += block;
        continue;
      }
      std::size_t begin = j;
      while (begin > 0 && kBase64[p[begin - 1]]) --begin;
      std::size_t end = j + block;
      while (end < n && kBase64[p[end]]) ++end;
      if (end - begin >= min_run) {
        for (int r : run_rules) try_at(s, r, begin);
      }
      j = (end / block + 1) * block;
    }
  }
  if (!heads.empty()) scan_windows(s);
  if (anywhere_set) scan_set(s, *anywhere_set, anywhere);
  return resolve(std::move(s.raw));
}

// Buckets: heads sharing their last three bytes with three or more others (the "x://" of
// url_password) get a bucket of their own; the rest, sorted, are cut into equal runs, so that a
// bucket holds heads with the same first bytes and its nibble tables admit few other windows.
void Engine::Impl::build_teddy() {
  teddy = Teddy{};
  std::vector<std::vector<std::uint32_t>> buckets(16);
  std::vector<std::uint32_t> rest;
  std::size_t next = 0;
  std::vector<std::uint32_t> sorted = heads;
  std::sort(sorted.begin(), sorted.end(), [](std::uint32_t a, std::uint32_t b) {
    auto key = [](std::uint32_t h) { return (h & 0xFF) << 24 | (h >> 8 & 0xFF) << 16 | (h >> 16 & 0xFF) << 8 | h >> 24; };
    return key(a) < key(b);  // by first byte, then second, ...
  });
  std::vector<bool> placed(sorted.size(), false);
  for (std::size_t a = 0; a < sorted.size() && next < 4; ++a) {
    if (placed[a]) continue;
    std::vector<std::size_t> same;
    for (std::size_t b = a; b < sorted.size(); ++b) {
      if (!placed[b] && (sorted[b] >> 8) == (sorted[a] >> 8)) same.push_back(b);
    }
    if (same.size() < 4) continue;
    for (std::size_t b : same) {
      buckets[next].push_back(sorted[b]);
      placed[b] = true;
    }
    ++next;
  }
  for (std::size_t a = 0; a < sorted.size(); ++a) {
    if (!placed[a]) rest.push_back(sorted[a]);
  }
  const std::size_t free_buckets = 16 - next;
  for (std::size_t k = 0; k < rest.size(); ++k) buckets[next + k * free_buckets / rest.size()].push_back(rest[k]);
  for (std::size_t b = 0; b < 16; ++b) {
    for (std::uint32_t h : buckets[b]) {
      for (int k = 0; k < 4; ++k) {
        const std::uint8_t c = static_cast<std::uint8_t>(h >> (8 * k));
        teddy.lo[k][b / 8][c & 15] |= static_cast<std::uint8_t>(1u << (b % 8));
        teddy.hi[k][b / 8][c >> 4] |= static_cast<std::uint8_t>(1u << (b % 8));
      }
    }
  }
#if defined(__x86_64__)
  use_avx2 = __builtin_cpu_supports("avx2");
#endif
}

#if defined(__x86_64__)
// Windows starting in [0, returned), 32 at a time; the caller does the rest.
__attribute__((target("avx2"))) std::size_t Engine::Impl::scan_windows_avx2(Scan& s) const {
  const auto* p = reinterpret_cast<const unsigned char*>(s.text.data());
  const std::size_t n = s.text.size();
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i fold = _mm256_set1_epi8(0x20);
  __m256i lo[4][2];
  __m256i hi[4][2];
  for (int k = 0; k < 4; ++k) {
    for (int b = 0; b < 2; ++b) {
      lo[k][b] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(teddy.lo[k][b])));
      hi[k][b] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(teddy.hi[k][b])));
    }
  }
  const std::uint64_t* bits = bitmap.data();
  std::size_t i = 0;
  for (; i + 35 <= n; i += 32) {
    __m256i r0 = _mm256_set1_epi8(-1);
    __m256i r1 = r0;
    for (int k = 0; k < 4; ++k) {
      const __m256i x = _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + k)), fold);
      const __m256i low = _mm256_and_si256(x, nibble);
      const __m256i high = _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble);
      r0 = _mm256_and_si256(r0, _mm256_and_si256(_mm256_shuffle_epi8(lo[k][0], low), _mm256_shuffle_epi8(hi[k][0], high)));
      r1 = _mm256_and_si256(r1, _mm256_and_si256(_mm256_shuffle_epi8(lo[k][1], low), _mm256_shuffle_epi8(hi[k][1], high)));
    }
    const __m256i none = _mm256_cmpeq_epi8(_mm256_or_si256(r0, r1), _mm256_setzero_si256());
    auto candidates = ~static_cast<std::uint32_t>(_mm256_movemask_epi8(none));
    while (candidates != 0) [[unlikely]] {
      const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(candidates));
      candidates &= candidates - 1;
      std::uint32_t w;
      std::memcpy(&w, p + at, 4);
      const std::uint32_t h1 = window_hash(w, kHashA);
      const std::uint32_t h2 = window_hash(w, kHashB);
      if (((bits[h1 >> 6] >> (h1 & 63)) & (bits[h2 >> 6] >> (h2 & 63)) & 1u) != 0) on_window(s, at);
    }
  }
  return i;
}
#endif

// Every 4-byte window of the text that may start a prefix goes to on_window.
void Engine::Impl::scan_windows(Scan& s) const {
  const auto* p = reinterpret_cast<const unsigned char*>(s.text.data());
  const std::size_t n = s.text.size();
  std::size_t i = 0;
#if defined(__x86_64__)
  if (use_avx2) i = scan_windows_avx2(s);
#endif
  // Without AVX2 (and for the last windows): each window looked up in the bitmap under two
  // hashes (a Bloom filter), four windows from one 8-byte load; no data-dependent branch but the
  // rare hit.
  const std::uint64_t* bits = bitmap.data();
  auto bit = [bits](std::uint32_t h) { return static_cast<unsigned>((bits[h >> 6] >> (h & 63)) & 1u); };
  auto hit = [&](std::size_t at, std::uint32_t w) {
    if (bit(window_hash(w, kHashB))) on_window(s, at);
  };
  for (; i + 8 <= n; i += 4) {
    std::uint64_t q;
    std::memcpy(&q, p + i, 8);  // windows i..i+3 (in whatever byte order: prefixes are hashed alike)
    const auto w0 = static_cast<std::uint32_t>(q);
    const auto w1 = static_cast<std::uint32_t>(q >> 8);
    const auto w2 = static_cast<std::uint32_t>(q >> 16);
    const auto w3 = static_cast<std::uint32_t>(q >> 24);
    const unsigned any = bit(window_hash(w0, kHashA)) | bit(window_hash(w1, kHashA)) << 1 |
                         bit(window_hash(w2, kHashA)) << 2 | bit(window_hash(w3, kHashA)) << 3;
    if (any != 0) [[unlikely]] {
      if (any & 1u) hit(i, w0);
      if (any & 2u) hit(i + 1, w1);
      if (any & 4u) hit(i + 2, w2);
      if (any & 8u) hit(i + 3, w3);
    }
  }
  for (; i + 4 <= n; ++i) {
    std::uint32_t w;
    std::memcpy(&w, p + i, 4);
    if (bit(window_hash(w, kHashA))) hit(i, w);
  }
}

std::vector<Engine::Impl::Raw> Engine::Impl::scan_reference(std::string_view text) const {
  std::call_once(reference_once, [this] {
    auto set = std::make_unique<RE2::Set>(options(kSetMaxMem), RE2::UNANCHORED);
    for (const Compiled& r : rules) set->Add(r.re->pattern(), nullptr);
    set->Compile();
    reference_set = std::move(set);
  });
  Scan s{text, std::vector<re2::StringPiece>(static_cast<std::size_t>(1 + max_groups)), {}, {}};
  if (rules.empty() || text.empty()) return {};
  std::vector<int> all(rules.size());
  std::iota(all.begin(), all.end(), 0);
  scan_set(s, *reference_set, all);
  return resolve(std::move(s.raw));
}

// Left to right: the earliest start wins, then the longest, then the earliest rule. A match
// overlapping one already taken keeps only its part beyond it, so a secret that another rule
// matched partly is still covered to its end.
std::vector<Engine::Impl::Raw> Engine::Impl::resolve(std::vector<Raw> raw) {
  if (raw.size() < 2) return raw;
  std::sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end > b.end;
    return a.rule < b.rule;
  });
  std::vector<Raw> taken;
  taken.reserve(raw.size());
  std::size_t last_end = 0;
  for (Raw r : raw) {
    if (r.end <= last_end) continue;
    r.begin = std::max(r.begin, last_end);
    taken.push_back(r);
    last_end = r.end;
  }
  return taken;
}

Engine::Engine() = default;
Engine::Engine(std::unique_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

std::size_t Engine::size() const { return impl_ ? impl_->rules.size() : 0; }

Engine Engine::compile(std::vector<Rule> rules) {
  auto impl = std::make_unique<Impl>();
  impl->bitmap.assign((std::size_t{1} << Impl::kHashBits) / 64, 0);
  const RE2::Options rule_options = options(kRuleMaxMem);
  std::vector<const Rule*> anywhere_rules;
  for (Rule& rule : rules) {
    if (rule.action == Action::Off) continue;
    if (!valid_type(rule.type)) {
      throw std::invalid_argument("redaction rule type '" + rule.type + "': use 1 to 64 of [A-Za-z0-9_.-]");
    }
    auto re = std::make_unique<RE2>(rule.pattern, rule_options);
    if (!re->ok()) bad_rule(rule.type, describe(re->error_code()));
    if (matches_empty(*re)) bad_rule(rule.type, "the pattern matches the empty string");
    if (!rule.prefixes.empty() && rule.base64_run > 0) bad_rule(rule.type, "give prefixes or base64_run, not both");
    const int index = static_cast<int>(impl->rules.size());
    for (const std::string& prefix : rule.prefixes) {
      if (prefix.size() < 4) bad_rule(rule.type, "a prefix is shorter than 4 bytes");
      impl->add_prefix(prefix, index);
    }
    if (rule.base64_run > 0) {
      impl->run_rules.push_back(index);
      impl->min_run = impl->min_run == 0 ? rule.base64_run : std::min(impl->min_run, rule.base64_run);
    }
    if (rule.prefixes.empty() && rule.base64_run == 0) {
      impl->anywhere.push_back(index);
      anywhere_rules.push_back(&rule);
    }
    const int groups = re->NumberOfCapturingGroups();
    impl->max_groups = std::max(impl->max_groups, groups);
    impl->rules.push_back(Impl::Compiled{rule.type, rule.action, rule.check, std::move(re), groups});
  }
  impl->freeze_trie();
  impl->build_teddy();
  if (!anywhere_rules.empty()) {
    impl->anywhere_set = std::make_unique<RE2::Set>(options(kSetMaxMem), RE2::UNANCHORED);
    for (const Rule* rule : anywhere_rules) {
      std::string ignored;  // RE2's message quotes the pattern
      if (impl->anywhere_set->Add(rule->pattern, &ignored) < 0) bad_rule(rule->type, "RE2::Set rejected the pattern");
    }
    if (!impl->anywhere_set->Compile()) throw std::invalid_argument("redaction rules: too large to compile together");
  }
  return Engine(std::move(impl));
}

std::vector<Engine::Finding> Engine::scan(std::string_view text) const {
  std::vector<Finding> out;
  if (!impl_) return out;
  for (const Impl::Raw& r : impl_->scan(text)) {
    const Impl::Compiled& rule = impl_->rules[static_cast<std::size_t>(r.rule)];
    if (rule.action == Action::Allow) continue;
    out.push_back(Finding{rule.type, rule.action, r.begin, r.end - r.begin});
  }
  return out;
}

std::vector<Engine::Finding> Engine::scan_reference_for_test(std::string_view text) const {
  std::vector<Finding> out;
  if (!impl_) return out;
  for (const Impl::Raw& r : impl_->scan_reference(text)) {
    const Impl::Compiled& rule = impl_->rules[static_cast<std::size_t>(r.rule)];
    if (rule.action == Action::Allow) continue;
    out.push_back(Finding{rule.type, rule.action, r.begin, r.end - r.begin});
  }
  return out;
}

Engine::Outcome Engine::redact(std::string& text) const {
  Outcome outcome;
  if (!impl_) return outcome;
  std::vector<int> first_rule;  // per counts entry: the rule that orders it
  // Rounds until nothing changes: replacing a secret changes the context of the text around it
  // (a base64 run rejected as a whole may be accepted without the part that was a key), so a
  // second scan can find more. Texts with no secret take one round.
  for (int round = 0; round < kMaxRounds; ++round) {
    std::vector<Impl::Raw> raw = impl_->scan(text);
    std::string out;
    std::size_t copied = 0;
    bool changed = false;
    for (const Impl::Raw& r : raw) {
      const Impl::Compiled& rule = impl_->rules[static_cast<std::size_t>(r.rule)];
      if (rule.action == Action::Allow) continue;
      if (rule.action == Action::Log && round > 0) continue;  // counted in the first round
      auto it = std::find_if(outcome.counts.begin(), outcome.counts.end(), [&](const TypeCount& c) {
        return c.type == rule.type && c.action == rule.action;
      });
      if (it == outcome.counts.end()) {
        outcome.counts.push_back(TypeCount{rule.type, rule.action, 1});
        first_rule.push_back(r.rule);
      } else {
        ++it->count;
        int& first = first_rule[static_cast<std::size_t>(it - outcome.counts.begin())];
        first = std::min(first, r.rule);
      }
      if (rule.action == Action::Log) continue;
      if (rule.action == Action::Block && !outcome.blocked) {
        outcome.blocked = true;
        outcome.blocked_type = rule.type;
      }
      if (!changed) {
        out.reserve(text.size());
        changed = true;
      }
      out.append(text, copied, r.begin - copied);
      out.append(kMarkerOpen);
      out.append(rule.type);
      out.push_back(']');
      copied = r.end;
    }
    if (!changed) break;
    out.append(text, copied, std::string::npos);
    text.swap(out);
    outcome.changed = true;
  }
  // Rule order, whatever order the findings came in.
  std::vector<std::size_t> order(outcome.counts.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return first_rule[a] < first_rule[b]; });
  std::vector<TypeCount> sorted;
  sorted.reserve(order.size());
  for (std::size_t i : order) sorted.push_back(outcome.counts[i]);
  outcome.counts = std::move(sorted);
  return outcome;
}

std::string marker(std::string_view type) {
  std::string m(kMarkerOpen);
  m.append(type);
  m.push_back(']');
  return m;
}

}  // namespace sluice::stages::redact
