#pragma once
// Virtual-key secrets: generation from OpenSSL's CSPRNG, SHA-256 hashing (only the hash is
// ever stored), the shape check and the display hint. Key ids are random too.
// Thread-safe: every function may be called from any thread.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::keys {

inline constexpr std::string_view kSecretPrefix = "sk-sluice-";
inline constexpr std::size_t kSecretRandomChars = 43;  // 43 * log2(62) = 256.03 bits
inline constexpr std::size_t kSecretLength = kSecretPrefix.size() + kSecretRandomChars;
inline constexpr std::size_t kHintChars = 12;  // shown before "..." in listings

using SecretHash = std::array<unsigned char, 32>;  // SHA-256

// "sk-sluice-" + 43 base62 characters from RAND_bytes, without modulo bias.
// Throws std::runtime_error if the CSPRNG fails.
std::string generate_secret();
// "key_" + 16 lowercase hex characters from RAND_bytes: public, safe to log.
std::string generate_key_id();
// SHA-256 of the secret's bytes (OpenSSL EVP).
SecretHash hash_secret(std::string_view secret);
// Whether two hashes (or other equal-length digests) are equal, in a time that does not depend
// on where they differ (CRYPTO_memcmp); false when their lengths differ.
bool same_digest(std::string_view a, std::string_view b);
// The prefix, the length and the base62 alphabet; says nothing about whether the key exists.
bool looks_like_sluice_key(std::string_view s);
// The first 12 characters + "..." ("sk-sluice-Ab..."), for listings.
std::string secret_hint(std::string_view secret);

}  // namespace sluice::keys
