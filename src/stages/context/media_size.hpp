#pragma once
// What images and PDFs cost, from their base64 data (issue: long-context guard). Images: the
// pixel size from the header of a PNG, GIF, WebP or JPEG (the formats the API accepts), never
// the pixels. PDFs: the page count, from the page objects in the decoded bytes, read in chunks.
// Pure functions; thread-safe.

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

// Pages of a PDF: its `/Type /Page` objects (not `/Pages`). PDFs that keep their page objects
// in compressed object streams show none: 0 then, and the caller counts one page.
std::uint64_t pdf_pages_from_base64(std::string_view base64);

// Tokens per PDF page: its text plus its image, at the low end of the 1,500-3,000 the API
// documents (an estimate that errs low never refuses a request the model would take).
inline constexpr std::uint64_t kPdfPageTokens = 1'500;

}  // namespace sluice::stages::context
