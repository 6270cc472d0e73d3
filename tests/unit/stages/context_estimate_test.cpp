#include <string>

#include <gtest/gtest.h>

#include "stages/context/media_size.hpp"
#include "stages/context/token_estimate.hpp"

namespace sluice::stages::context {
namespace {

using F = TextFeatures;

TextFeatures features(std::string_view s) {
  TextFeatures f;
  f.add(s);
  return f;
}

TEST(TextFeatures, CountsWordsByLength) {
  auto f = features("a cat jumped extraordinarily incomprehensibilities");
  EXPECT_EQ(f.n[F::Words1to3], 2u);   // a, cat
  EXPECT_EQ(f.n[F::Words4to7], 1u);   // jumped
  EXPECT_EQ(f.n[F::Words8to12], 0u);
  EXPECT_EQ(f.n[F::Words13], 2u);     // extraordinarily (15), incomprehensibilities (21)
  EXPECT_EQ(f.n[F::LongExtra], 3u + 9u);
}

TEST(TextFeatures, SeesCodeShapes) {
  auto f = features("int parsePaddedJson(x_y);\n    return 42;\n");
  EXPECT_EQ(f.n[F::Humps], 2u);        // P, J
  EXPECT_EQ(f.n[F::Joined], 2u);       // x after '(' and y after '_'
  EXPECT_EQ(f.n[F::Punct], 5u);        // ( _ ) ; ;
  EXPECT_EQ(f.n[F::PunctRuns], 4u);    // "(", "_", ");", ";"
  EXPECT_EQ(f.n[F::Digits], 2u);
  EXPECT_EQ(f.n[F::Newlines], 2u);
  EXPECT_EQ(f.n[F::SpaceRuns], 1u);    // the indentation
}

TEST(TextFeatures, ClassifiesNonAsciiScripts) {
  auto f = features("déjà Ωμέγα привет 你好 🙂");
  EXPECT_EQ(f.n[F::LatinAccents], 2u);
  EXPECT_EQ(f.n[F::Greek], 5u);
  EXPECT_EQ(f.n[F::OtherScripts], 6u);
  EXPECT_EQ(f.n[F::Cjk], 2u);
  EXPECT_EQ(f.n[F::OtherWide], 1u);
  EXPECT_EQ(f.n[F::Words4to7], 3u);  // déjà, Ωμέγα, привет: letters of any two-byte script join words
}

TEST(TextFeatures, SurvivesTruncatedUtf8) {
  auto f = features(std::string("ab\xE4\xBD", 4));  // a three-byte sequence cut short
  EXPECT_EQ(f.n[F::Words1to3], 1u);
  EXPECT_EQ(f.n[F::OtherWide] + f.n[F::LatinAccents] + f.n[F::OtherScripts] + f.n[F::Greek], 2u);
}

TEST(TokenEstimate, EmptyIsZeroAndTextIsPositive) {
  EXPECT_EQ(estimate_tokens(""), 0u);
  const auto hello = estimate_tokens("Hello, Claude");
  EXPECT_GE(hello, 2u);
  EXPECT_LE(hello, 5u);
}

TEST(TokenEstimate, ScalesLinearlyWithRepeatedText) {
  const std::string para = "The quick brown fox jumps over the lazy dog. ";
  std::string big;
  for (int i = 0; i < 1000; ++i) big += para;
  const double one = static_cast<double>(estimate_tokens(para));
  const double many = static_cast<double>(estimate_tokens(big));
  EXPECT_NEAR(many / one, 1000.0, 1000.0 * 0.1);
  // English prose runs at about four bytes per token.
  EXPECT_NEAR(static_cast<double>(big.size()) / many, 4.5, 1.0);
}

// --- image sizes -------------------------------------------------------------------------

std::string base64(const std::string& bytes) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += a[(v >> 6) & 63];
    out += a[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? a[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string be32(unsigned v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

TEST(ImageSize, ReadsPng) {
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + "IHDR" + be32(1920) + be32(1080) + "\x08\x06";
  auto s = image_size_from_base64(base64(png));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->width, 1920u);
  EXPECT_EQ(s->height, 1080u);
}

TEST(ImageSize, ReadsGifAndWebp) {
  auto gif = image_size_from_base64(base64(std::string("GIF89a\x40\x01\xF0\x00", 10)));
  ASSERT_TRUE(gif);
  EXPECT_EQ(gif->width, 320u);
  EXPECT_EQ(gif->height, 240u);
  std::string webp = std::string("RIFF\0\0\0\0WEBPVP8X", 16) + std::string(8, '\0') +
                     std::string("\x7F\x02\x00\xDF\x01\x00", 6);  // 640 x 480, minus one, 24-bit LE
  auto w = image_size_from_base64(base64(webp));
  ASSERT_TRUE(w);
  EXPECT_EQ(w->width, 640u);
  EXPECT_EQ(w->height, 480u);
}

TEST(ImageSize, ReadsJpegPastItsAppSegments) {
  std::string jpeg = "\xFF\xD8";
  jpeg += std::string("\xFF\xE1\x00\x10", 4) + std::string(14, 'x');  // an APP1 (EXIF) segment
  jpeg += std::string("\xFF\xC0\x00\x11\x08\x02\xD0\x05\x00", 9) + std::string(12, '\0');  // SOF0: 720 high, 1280 wide
  auto s = image_size_from_base64(base64(jpeg));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->width, 1280u);
  EXPECT_EQ(s->height, 720u);
}

TEST(ImageSize, RefusesWhatItCannotRead) {
  EXPECT_FALSE(image_size_from_base64(""));
  EXPECT_FALSE(image_size_from_base64("not base64 at all!"));
  EXPECT_FALSE(image_size_from_base64(base64("\x89PNG")));  // cut before the size
}

TEST(ImageTokens, ScalesLikeTheApi) {
  EXPECT_EQ(image_tokens({200, 200}), 54u);    // 40000 / 750, rounded up
  EXPECT_EQ(image_tokens({1000, 1000}), 1334u);
  // A 4K screenshot is scaled to 1568 px on the long edge, then to ~1.15 megapixels.
  EXPECT_EQ(image_tokens({3840, 2160}), 1534u);
}

}  // namespace
}  // namespace sluice::stages::context
