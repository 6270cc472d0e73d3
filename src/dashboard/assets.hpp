#pragma once
// The dashboard's static files (web/, bundled by esbuild), embedded into the binary at build
// time so `sluice serve` is one file to deploy: src/dashboard/CMakeLists.txt runs web/build.mjs
// and cmake/EmbedFiles.cmake turns its output into a generated .cpp. When web/ could not be
// built (no node, or `npm ci` not run in web/), there are no assets and the gateway answers the
// dashboard's URL with how to build it. Immutable data; thread-safe.

#include <span>
#include <string_view>

namespace sluice::dashboard {

struct Asset {
  std::string_view name;          // path below the dashboard's URL: "index.html", "app.js", ...
  std::string_view content_type;  // from the file's extension
  std::string_view body;
};

// Every embedded file (empty when the dashboard was not built). Defined in the generated file.
std::span<const Asset> assets();
// The file called `name`, or nullptr.
const Asset* find_asset(std::string_view name);
// What to do when assets() is empty: one sentence for an operator.
inline constexpr std::string_view kNotBuilt =
    "The dashboard was not built into this sluice binary: web/node_modules is missing or node was not found "
    "when it was compiled. Run scripts/setup.sh (it runs npm ci in web/), then scripts/build.sh release, and "
    "restart sluice.";

}  // namespace sluice::dashboard
