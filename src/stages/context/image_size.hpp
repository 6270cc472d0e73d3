#pragma once
// Pixel size of an image from the first bytes of its base64 data, and what Claude charges for
// it (issue: long-context guard). PNG, GIF, WebP and JPEG, the formats the API accepts; only
// the header is decoded, never the pixels. Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::stages::context {

struct PixelSize {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
};

// nullopt when the data is not one of the four formats, or is cut before its size.
std::optional<PixelSize> image_size_from_base64(std::string_view base64);

// Tokens of an image of `size`: the API scales it to at most 1568 px on the long edge and
// about 1.15 megapixels, then charges width × height / 750.
std::uint64_t image_tokens(PixelSize size);

// What an image of unknown size is taken to cost (a typical screenshot, scaled).
inline constexpr std::uint64_t kUnknownImageTokens = 1'000;

}  // namespace sluice::stages::context
