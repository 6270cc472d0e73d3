#pragma once
// Schema versions of sluice's PostgreSQL components (ledger, keys): the table
// sluice_schema_versions(component, version) and an ordered list of steps per component. A
// gateway applies the steps it knows beyond the recorded version, in one transaction, under an
// advisory lock, so replicas starting together migrate once and a half-applied migration never
// shows. A database newer than this sluice is an error at start-up.

#include <string>
#include <string_view>
#include <vector>

#include "pg/connection.hpp"

namespace sluice::pg {

// Brings `component` to version steps.size(): step i (0-based) takes it from i to i + 1.
// Throws PgError.
void migrate(Connection& c, std::string_view component, const std::vector<std::string>& steps);

}  // namespace sluice::pg
