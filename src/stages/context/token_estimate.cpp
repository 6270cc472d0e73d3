#include "stages/context/token_estimate.hpp"

#include <cmath>

namespace sluice::stages::context {
namespace {

// Byte classes of ASCII, so the loop does one table load per byte.
enum : std::uint8_t { kLower, kUpper, kDigit, kSpace, kNewline, kPunct, kIgnore, kHigh };

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t k = kHigh;
    if (c < 0x80) {
      if (c >= 'a' && c <= 'z') k = kLower;
      else if (c >= 'A' && c <= 'Z') k = kUpper;
      else if (c >= '0' && c <= '9') k = kDigit;
      else if (c == ' ' || c == '\t') k = kSpace;
      else if (c == '\n') k = kNewline;
      else if (c == '\r') k = kIgnore;
      else k = kPunct;  // punctuation, symbols and other control characters
    }
    t[static_cast<std::size_t>(c)] = k;
  }
  return t;
}
constexpr auto kClasses = make_classes();

bool is_cjk(std::uint32_t cp) {
  return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFF00 && cp <= 0xFFEF) || (cp >= 0x20000 && cp <= 0x3FFFF);
}

}  // namespace

void TextFeatures::add(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t size = s.size();
  std::size_t word = 0;  // letters in the current word
  bool prev_lower = false;
  std::uint8_t prev = kSpace;  // class of the byte before the current word or run
  std::size_t spaces = 0;
  auto end_word = [&] {
    if (word == 0) return;
    n[word <= 3 ? Words1to3 : word <= 7 ? Words4to7 : word <= 12 ? Words8to12 : Words13] += 1;
    if (word > 12) n[LongExtra] += word - 12;
    word = 0;
    prev_lower = false;
  };
  auto start_letter = [&] {
    if (word == 0 && (prev == kPunct || prev == kDigit)) ++n[Joined];
    ++word;
    spaces = 0;
    prev = kLower;
  };
  for (std::size_t i = 0; i < size;) {
    const std::uint8_t k = kClasses[p[i]];
    if (k == kLower || k == kUpper) {
      if (k == kUpper && prev_lower) ++n[Humps];
      start_letter();
      prev_lower = k == kLower;
      ++i;
      continue;
    }
    if (k != kHigh) {
      end_word();
      if (k == kSpace) {
        if (++spaces == 2) ++n[SpaceRuns];
      } else {
        spaces = 0;
        if (k == kDigit) ++n[Digits];
        else if (k == kNewline) ++n[Newlines];
        else if (k == kPunct) {
          if (prev != kPunct) ++n[PunctRuns];
          ++n[Punct];
        }
      }
      if (k != kIgnore) prev = k;
      ++i;
      continue;
    }
    // A multi-byte sequence: classify its code point; malformed bytes count as wide symbols.
    const unsigned char lead = p[i];
    std::size_t len = lead >= 0xF8 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (i + len > size) len = 1;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) len = 1;  // not a sequence: one stray byte, resync at the next
    }
    if (len == 2) {
      // Part of a word: accented and non-Latin letters join the letters around them.
      start_letter();
      // U+0080-U+024F is Latin, U+0370-U+03FF Greek.
      ++n[lead <= 0xC9 ? LatinAccents : (lead == 0xCD && p[i + 1] >= 0xB0) || lead == 0xCE || lead == 0xCF ? Greek : OtherScripts];
      prev_lower = false;
      i += 2;
      continue;
    }
    end_word();
    spaces = 0;
    prev = kHigh;
    std::uint32_t cp = 0;
    if (len == 3) cp = ((lead & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
    if (len == 4) cp = ((lead & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) | (p[i + 3] & 0x3Fu);
    if (len > 2 && is_cjk(cp)) ++n[Cjk];
    else ++n[OtherWide];
    i += len;
  }
  end_word();
}

const Coefficients& default_coefficients() {
  // Fitted by bench/token-calibration against the Claude tokenizer (weighted least squares on
  // relative error, each kind of text weighted equally), in the order of TextFeatures::Index.
  static const Coefficients c{1.094, 1.097, 1.441, 1.000, 0.125, 1.977, 0.116, 2.814, 1.133,
                              0.419, 0.531, 0.917, 0.047, 0.597, 0.372, 1.119, 1.859};
  return c;
}

std::uint64_t estimate_tokens(const TextFeatures& f, const Coefficients& c) {
  double t = 0;
  for (std::size_t i = 0; i < TextFeatures::kCount; ++i) t += c[i] * static_cast<double>(f.n[i]);
  return static_cast<std::uint64_t>(std::ceil(t));
}

std::uint64_t estimate_tokens(std::string_view utf8) {
  TextFeatures f;
  f.add(utf8);
  return estimate_tokens(f);
}

}  // namespace sluice::stages::context
