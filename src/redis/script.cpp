#include "redis/script.hpp"

#include <openssl/sha.h>

namespace sluice::redis {

Script::Script(std::string source) : source_(std::move(source)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : digest) {
    sha1_ += kHex[b >> 4];
    sha1_ += kHex[b & 15];
  }
}

Result<Reply> Script::run(Connection& conn, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args) const {
  std::string nkeys = std::to_string(keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(sha1_);
  argv.push_back(nkeys);
  for (const auto& k : keys) argv.push_back(k);
  for (const auto& a : args) argv.push_back(a);
  auto r = conn.command(argv);
  if (!r.ok() || !r.value().is_error() || !r.value().str.starts_with("NOSCRIPT")) return r;
  argv[0] = "EVAL";
  argv[1] = source_;
  return conn.command(argv);
}

}  // namespace sluice::redis
