#pragma once
// The column layout the SQLite and PostgreSQL key stores share, and the reading of a row in it
// into records. A row is anything with the accessors of storage::Stmt (text, int64, opt_int64,
// opt_real by column): the SQLite statement itself, or a pg::Row. The key columns differ in one
// way between stores: PostgreSQL selects name and hint through coalesce, as they are nullable
// there, so each store spells its own list in this order.

#include <algorithm>
#include <climits>
#include <cstdint>

#include "keys/records.hpp"

namespace sluice::keys {

// projects, in the order read_project reads.
constexpr const char* kProjectColumns = "name, rpm, tpm, concurrency, budget_usd_day, budget_usd_month, created_ms";

// The five limit columns starting at column `first`: rpm, tpm, concurrency, budget_usd_day,
// budget_usd_month.
template <class Row>
Limits read_limits(const Row& r, int first) {
  Limits l;
  l.rpm = r.opt_real(first);
  l.tpm = r.opt_real(first + 1);
  if (auto c = r.opt_int64(first + 2)) l.concurrency = static_cast<int>(std::clamp<std::int64_t>(*c, 0, INT_MAX));
  l.budget_usd_day = r.opt_real(first + 3);
  l.budget_usd_month = r.opt_real(first + 4);
  return l;
}

// id, project, name, hint, the limits, created_ms, revoked_ms.
template <class Row>
KeyRecord read_key(const Row& r) {
  KeyRecord k;
  k.id = r.text(0);
  k.project = r.text(1);
  k.name = r.text(2);
  k.hint = r.text(3);
  k.limits = read_limits(r, 4);
  k.created_ms = r.int64(9);
  k.revoked_ms = r.opt_int64(10);
  return k;
}

// kProjectColumns.
template <class Row>
ProjectRecord read_project(const Row& r) {
  ProjectRecord p;
  p.name = r.text(0);
  p.limits = read_limits(r, 1);
  p.created_ms = r.int64(6);
  return p;
}

}  // namespace sluice::keys
