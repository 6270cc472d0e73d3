#include "keys/secret.hpp"

#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace sluice::keys {
namespace {

constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
// The largest multiple of 62 that fits in a byte: bytes at or above it are discarded, so every
// symbol is drawn from exactly four byte values.
constexpr unsigned kUnbiasedLimit = 248;

void random_bytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("keys: RAND_bytes failed");
}

bool is_base62(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Fetched once: an explicit fetch avoids OpenSSL 3's per-call implicit lookup (and its lock).
// Immutable after initialisation and shared by all threads.
const EVP_MD* sha256() {
  static const EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) throw std::runtime_error("keys: SHA-256 unavailable in OpenSSL");
    return m;
  }();
  return md;
}

}  // namespace

std::string generate_secret() {
  std::string out(kSecretPrefix);
  out.reserve(kSecretLength);
  unsigned char buf[64];
  while (out.size() < kSecretLength) {
    random_bytes(buf, sizeof buf);
    for (unsigned char b : buf) {
      if (b >= kUnbiasedLimit) continue;
      out.push_back(kBase62[b % kBase62.size()]);
      if (out.size() == kSecretLength) break;
    }
  }
  OPENSSL_cleanse(buf, sizeof buf);
  return out;
}

std::string generate_key_id() {
  constexpr char kHex[] = "0123456789abcdef";
  unsigned char buf[8];
  random_bytes(buf, sizeof buf);
  std::string out = "key_";
  for (unsigned char b : buf) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

SecretHash hash_secret(std::string_view secret) {
  SecretHash out{};
  unsigned int len = 0;
  if (EVP_Digest(secret.data(), secret.size(), out.data(), &len, sha256(), nullptr) != 1 || len != out.size())
    throw std::runtime_error("keys: SHA-256 failed");
  return out;
}

bool looks_like_sluice_key(std::string_view s) {
  if (s.size() != kSecretLength || !s.starts_with(kSecretPrefix)) return false;
  for (char c : s.substr(kSecretPrefix.size()))
    if (!is_base62(c)) return false;
  return true;
}

std::string secret_hint(std::string_view secret) {
  std::string out(secret.substr(0, kHintChars));
  out += "...";
  return out;
}

bool same_digest(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sluice::keys
