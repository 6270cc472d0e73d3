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

// The feature a word of 0..13+ letters counts in; a "word" of 0 letters lands in kCount, a
// spare slot past the real features that is never read.
constexpr std::array<std::size_t, 14> kLengthBucket{
    TextFeatures::kCount,      TextFeatures::Words1to3,  TextFeatures::Words1to3,  TextFeatures::Words1to3,
    TextFeatures::Words4to7,   TextFeatures::Words4to7,  TextFeatures::Words4to7,  TextFeatures::Words4to7,
    TextFeatures::Words8to12,  TextFeatures::Words8to12, TextFeatures::Words8to12, TextFeatures::Words8to12,
    TextFeatures::Words8to12,  TextFeatures::Words13};

bool is_cjk(std::uint32_t cp) {
  return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFF00 && cp <= 0xFFEF) || (cp >= 0x20000 && cp <= 0x3FFFF);
}

}  // namespace

void TextFeatures::add(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t size = s.size();
  // Counts live in locals while the loop runs: stores through `n` could alias the text (it is
  // read through a char pointer), which would make the compiler reload after every increment.
  std::array<std::uint64_t, kCount + 1> c{};  // + the spare slot of kLengthBucket
  std::uint64_t humps = 0;
  std::size_t word = 0;  // letters in the current word
  bool prev_lower = false;
  std::uint8_t prev = kSpace;  // class of the byte before the current word or run
  std::size_t spaces = 0;
  auto end_word = [&] {
    // Branch-free: word lengths are as random as the text, so a branch per bucket mispredicts.
    c[kLengthBucket[word < 13 ? word : 13]] += 1;
    c[LongExtra] += word > 12 ? word - 12 : 0;
    word = 0;
    prev_lower = false;
  };
  auto start_letter = [&] {
    if (word == 0 && (prev == kPunct || prev == kDigit)) ++c[Joined];
    spaces = 0;
    prev = kLower;
  };
  for (std::size_t i = 0; i < size;) {
    const std::uint8_t k = kClasses[p[i]];
    if (k <= kUpper) {
      // A run of ASCII letters, in a tight loop: most of any text.
      start_letter();
      std::size_t j = i;
      bool lower = prev_lower;
      do {
        const std::uint8_t kk = kClasses[p[j]];
        if (kk > kUpper) break;
        humps += static_cast<std::uint64_t>(kk == kUpper && lower);
        lower = kk == kLower;
      } while (++j < size);
      word += j - i;
      prev_lower = lower;
      i = j;
      continue;
    }
    if (k != kHigh) {
      end_word();
      if (k == kSpace) {
        if (++spaces == 2) ++c[SpaceRuns];
      } else {
        spaces = 0;
        if (k == kDigit) ++c[Digits];
        else if (k == kNewline) ++c[Newlines];
        else if (k == kPunct) {
          if (prev != kPunct) ++c[PunctRuns];
          ++c[Punct];
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
    for (std::size_t k2 = 1; k2 < len; ++k2) {
      if ((p[i + k2] & 0xC0) != 0x80) len = 1;  // not a sequence: one stray byte, resync at the next
    }
    if (len == 2) {
      // Part of a word: accented and non-Latin letters join the letters around them.
      start_letter();
      ++word;
      // U+0080-U+024F is Latin, U+0370-U+03FF Greek.
      ++c[lead <= 0xC9 ? LatinAccents : (lead == 0xCD && p[i + 1] >= 0xB0) || lead == 0xCE || lead == 0xCF ? Greek : OtherScripts];
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
    if (len > 2 && is_cjk(cp)) ++c[Cjk];
    else ++c[OtherWide];
    i += len;
  }
  end_word();
  c[Humps] += humps;
  for (std::size_t i = 0; i < kCount; ++i) n[i] += c[i];
}

const Coefficients& default_coefficients() {
  // Fitted by bench/token-calibration against the Claude tokenizer (weighted least squares on
  // relative error, each kind of text weighted equally, on half the samples; the other half
  // measures the error), in the order of TextFeatures::Index.
  static const Coefficients c{1.047, 1.132, 1.496, 1.000, 0.125, 1.182, 0.384, 2.811, 0.600,
                              0.425, 0.493, 0.796, 0.052, 0.345, 0.624, 1.137, 1.381};
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
