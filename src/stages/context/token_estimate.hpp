#pragma once
// A fast local estimate of how many tokens a text costs (issue: long-context guard).
//
// Byte-pair tokenizers give common words one token, split rare and long identifiers at case
// changes, spend about a token per punctuation mark, merge runs of indentation, and spend one
// or more tokens per CJK character. The estimate counts those features in one pass over the
// UTF-8 bytes and weighs them with coefficients fitted against reference tokenizers
// (bench/token-calibration; the figures are in docs/context-guard.md). No vocabulary, no
// allocation: 0.5 GB/s on prose to 0.8 GB/s on code (bench/context_bench.cpp), so a 200K-token
// prompt costs about 1.5 ms and a typical Claude Code request (110 KB) 0.17 ms.
// Pure functions; thread-safe.

#include <array>
#include <cstdint>
#include <string_view>

namespace sluice::stages::context {

// What the estimate counts, accumulated over one or more texts.
struct TextFeatures {
  enum Index : std::size_t {
    Words1to3,     // words (runs of letters: ASCII and two-byte code points) of 1-3 letters
    Words4to7,     // ... of 4-7 letters
    Words8to12,    // ... of 8-12 letters
    Words13,       // ... of 13 letters or more
    LongExtra,     // letters beyond the 12th of a word (long identifiers, encoded blobs)
    Humps,         // lower-to-upper case changes inside a word (camelCase identifiers)
    Joined,        // words right after punctuation or a digit (snake_case, a.b, "key": code)
    LatinAccents,  // two-byte Latin letters (é, ß, ł)
    Greek,         // two-byte Greek letters (U+0370-U+03FF)
    OtherScripts,  // other two-byte letters: Cyrillic, Armenian, Hebrew, Arabic
    Digits,        // ASCII digits
    PunctRuns,     // runs of ASCII punctuation and symbols
    Punct,         // ASCII punctuation and symbols
    Newlines,      // '\n'
    SpaceRuns,     // runs of two or more spaces or tabs (indentation)
    Cjk,           // Han, kana, Hangul and full-width code points
    OtherWide,     // other three- and four-byte code points: symbols, emoji
    kCount,
  };
  std::array<std::uint64_t, kCount> n{};

  void add(std::string_view utf8);
  void merge(const TextFeatures& o) {
    for (std::size_t i = 0; i < kCount; ++i) n[i] += o.n[i];
  }
};

// Tokens per unit of each feature, in the order of TextFeatures::Index.
using Coefficients = std::array<double, TextFeatures::kCount>;

// The fitted coefficients (see docs/context-guard.md for the fit and its error).
const Coefficients& default_coefficients();

// Σ coefficient × feature, rounded up; 0 only for no features.
std::uint64_t estimate_tokens(const TextFeatures& f, const Coefficients& c = default_coefficients());
std::uint64_t estimate_tokens(std::string_view utf8);

}  // namespace sluice::stages::context
