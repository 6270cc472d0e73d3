#pragma once
// The records of the key store as plain values: projects, virtual keys and their limits.
// A key belongs to one project; both carry optional limits (unset = unlimited) that the
// rate-limit and budget stages enforce. Plain data: copy freely, no thread-safety concerns.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::keys {

struct Limits {  // every field optional: unset = unlimited
  std::optional<double> rpm;               // requests per minute
  std::optional<double> tpm;               // tokens per minute (input + output)
  std::optional<int> concurrency;          // requests in flight
  std::optional<double> budget_usd_day;    // spend per UTC day
  std::optional<double> budget_usd_month;  // spend per UTC month

  friend bool operator==(const Limits&, const Limits&) = default;
};

struct KeyRecord {
  std::string id;       // "key_" + 16 lowercase hex, public, safe to log
  std::string project;  // the owning project's name
  std::string name;     // optional label, "" when unset
  std::string hint;     // the first 12 characters of the secret + "..." ("sk-sluice-Ab...")
  Limits limits;
  std::int64_t created_ms = 0;            // Unix epoch milliseconds
  std::optional<std::int64_t> revoked_ms;  // set once revoked; never cleared

  friend bool operator==(const KeyRecord&, const KeyRecord&) = default;
};

struct ProjectRecord {
  std::string name;  // valid_project_name()
  Limits limits;
  std::int64_t created_ms = 0;

  friend bool operator==(const ProjectRecord&, const ProjectRecord&) = default;
};

// A freshly created key. The secret is shown to the user once and never stored.
struct NewKey {
  KeyRecord record;
  std::string secret;
};

// 1..64 characters of [A-Za-z0-9._-].
bool valid_project_name(std::string_view s);
// Every set limit is finite and >= 0 (0 is allowed: it refuses everything).
bool valid_limits(const Limits& limits);

}  // namespace sluice::keys
