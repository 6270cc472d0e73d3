#pragma once
#include "unit/storage/temp_db.hpp"

namespace sluice::keys::testing {
using storage::testing::TempDb;
}  // namespace sluice::keys::testing
