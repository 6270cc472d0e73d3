#include "translate/names.hpp"

#include <cstdint>

namespace sluice::translate {
namespace {

bool safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

constexpr std::string_view kHex = "0123456789abcdef";
constexpr std::string_view kIdPrefix = "sluice_";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

}  // namespace

bool is_openai_safe_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!safe_char(c)) return false;
  }
  return true;
}

std::string ToolNames::to_upstream(std::string_view name) {
  if (is_openai_safe_name(name)) return std::string(name);
  std::string out;
  for (char c : name) {
    if (out.size() == 55) break;
    out.push_back(safe_char(c) ? c : '_');
  }
  out.push_back('_');
  const std::uint32_t h = fnv1a(name);
  for (int shift = 28; shift >= 0; shift -= 4) out.push_back(kHex[(h >> shift) & 0xF]);
  for (const auto& [up, client] : mapped_) {
    if (up == out) return out;
  }
  mapped_.emplace_back(out, std::string(name));
  return out;
}

std::string ToolNames::to_client(std::string_view upstream) const {
  for (const auto& [up, client] : mapped_) {
    if (up == upstream) return client;
  }
  return std::string(upstream);
}

std::string message_id_for(std::string_view upstream_id) {
  std::string id = "msg_";
  for (char c : upstream_id) id.push_back(safe_char(c) ? c : '_');
  return id;
}

std::string tool_id_to_client(std::string_view id) {
  bool safe = !id.empty();
  for (char c : id) safe = safe && safe_char(c);
  if (safe && !id.starts_with(kIdPrefix)) return std::string(id);  // ours are always encoded
  std::string out(kIdPrefix);
  for (unsigned char c : id) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

std::string tool_id_to_upstream(std::string_view id) {
  if (!id.starts_with(kIdPrefix) || (id.size() - kIdPrefix.size()) % 2 != 0) return std::string(id);
  std::string out;
  for (std::size_t i = kIdPrefix.size(); i < id.size(); i += 2) {
    const int hi = hex_value(id[i]);
    const int lo = hex_value(id[i + 1]);
    const int c = hi * 16 + lo;
    // Only printable ASCII decodes: the result goes into JSON, and ids are ASCII in practice.
    if (hi < 0 || lo < 0 || c < 0x20 || c > 0x7E) return std::string(id);
    out.push_back(static_cast<char>(c));
  }
  return out;
}

}  // namespace sluice::translate
