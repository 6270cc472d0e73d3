#include "stages/context/media_size.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace sluice::stages::context {
namespace {

// JPEG puts its size after the EXIF block, which may hold a thumbnail: read this far.
constexpr std::size_t kHeaderBytes = 96 * 1024;

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Decodes `in` in chunks of up to `chunk` bytes, handing each to `sink` (which returns false to
// stop); stops at padding or a character outside the alphabet. Line breaks are skipped.
template <class Sink>
void decode_chunks(std::string_view in, std::size_t chunk, Sink&& sink) {
  std::string out;
  out.reserve(std::min(chunk, in.size() / 4 * 3 + 3));
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '\n' || c == '\r') continue;
    int v = b64_value(c);
    if (v < 0) break;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
      if (out.size() >= chunk) {
        if (!sink(std::string_view(out))) return;
        out.clear();
      }
    }
  }
  if (!out.empty()) sink(std::string_view(out));
}

std::string decode_prefix(std::string_view in, std::size_t max) {
  std::string out;
  decode_chunks(in, max, [&](std::string_view c) {
    out.assign(c);
    return false;
  });
  return out;
}

std::uint32_t be16(const unsigned char* p) { return (std::uint32_t{p[0]} << 8) | p[1]; }
std::uint32_t le16(const unsigned char* p) { return (std::uint32_t{p[1]} << 8) | p[0]; }
std::uint32_t be32(const unsigned char* p) { return (be16(p) << 16) | be16(p + 2); }
std::uint32_t le24(const unsigned char* p) { return (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) | p[0]; }

std::optional<PixelSize> jpeg_size(const unsigned char* p, std::size_t n) {
  std::size_t i = 2;
  while (i + 9 < n) {
    if (p[i] != 0xFF) return std::nullopt;
    const unsigned char marker = p[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      i += 2;
      continue;
    }
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) return PixelSize{be16(p + i + 7), be16(p + i + 5)};
    const std::uint32_t len = be16(p + i + 2);
    if (len < 2) return std::nullopt;
    i += 2 + len;
  }
  return std::nullopt;
}

}  // namespace

std::optional<PixelSize> image_size_from_base64(std::string_view base64) {
  const std::string bytes = decode_prefix(base64, kHeaderBytes);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::optional<PixelSize> s;
  if (n >= 24 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) {
    s = PixelSize{be32(p + 16), be32(p + 20)};
  } else if (n >= 10 && bytes.compare(0, 4, "GIF8") == 0) {
    s = PixelSize{le16(p + 6), le16(p + 8)};
  } else if (n >= 30 && bytes.compare(0, 4, "RIFF") == 0 && bytes.compare(8, 4, "WEBP") == 0) {
    if (bytes.compare(12, 4, "VP8 ") == 0) {
      s = PixelSize{le16(p + 26) & 0x3FFF, le16(p + 28) & 0x3FFF};
    } else if (bytes.compare(12, 4, "VP8L") == 0) {
      const std::uint32_t b = p[21] | (std::uint32_t{p[22]} << 8) | (std::uint32_t{p[23]} << 16) | (std::uint32_t{p[24]} << 24);
      s = PixelSize{(b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1};
    } else if (bytes.compare(12, 4, "VP8X") == 0) {
      s = PixelSize{le24(p + 24) + 1, le24(p + 27) + 1};
    }
  } else if (n >= 4 && p[0] == 0xFF && p[1] == 0xD8) {
    s = jpeg_size(p, n);
  }
  if (s && (s->width == 0 || s->height == 0)) return std::nullopt;
  return s;
}

std::uint64_t image_tokens(PixelSize size) {
  double w = size.width;
  double h = size.height;
  const double long_edge = std::max(w, h);
  if (long_edge > 1568) {
    w *= 1568 / long_edge;
    h *= 1568 / long_edge;
  }
  constexpr double kMaxPixels = 1'150'000;
  if (w * h > kMaxPixels) {
    const double f = std::sqrt(kMaxPixels / (w * h));
    w *= f;
    h *= f;
  }
  return static_cast<std::uint64_t>(std::ceil(std::max(1.0, w * h / 750)));
}

std::uint64_t pdf_pages_from_base64(std::string_view base64) {
  // "/Type /Page" with any whitespace (or none) before "/Page", not followed by "s". A match
  // may straddle two chunks: the unexamined tail of each chunk is carried into the next.
  std::uint64_t pages = 0;
  std::string carry;
  decode_chunks(base64, 64 * 1024, [&](std::string_view chunk) {
    const std::string text = carry + std::string(chunk);
    std::size_t carry_from = 0;
    for (std::size_t at = 0;;) {
      at = text.find("/Type", at);
      if (at == std::string::npos) {
        carry_from = text.size() > 4 ? text.size() - 4 : 0;  // room for a partial "/Typ"
        break;
      }
      std::size_t i = at + 5;
      while (i < text.size() && (text[i] == ' ' || text[i] == '\r' || text[i] == '\n' || text[i] == '\t')) ++i;
      if (i + 6 > text.size()) {
        carry_from = at;  // cut by the chunk's end: examined again with the next one
        break;
      }
      if (text.compare(i, 5, "/Page") == 0 && text[i + 5] != 's') ++pages;
      at += 5;
    }
    carry = text.substr(carry_from);
    return true;
  });
  return pages;
}

}  // namespace sluice::stages::context
