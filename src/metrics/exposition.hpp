#pragma once
// The small pieces of the Prometheus text exposition format 0.0.4 that every metric family
// needs: name validation, escaping of label values and HELP text, and number formatting that
// Prometheus parses back exactly. Pure functions; thread-safe.

#include <string>
#include <string_view>

namespace sluice::metrics {

// The content type of Registry::render()'s output, for the /metrics response.
inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved for Prometheus itself).
bool valid_label_name(std::string_view name);

// Appends a label value with backslash, double quote and newline escaped.
void append_label_value(std::string& out, std::string_view value);
// Appends HELP text with backslash and newline escaped.
void append_help(std::string& out, std::string_view help);
// Appends a sample value: integers without exponent where exact, otherwise the shortest text
// that reads back as the same double; "+Inf", "-Inf" and "NaN" for the special values.
void append_value(std::string& out, double v);
std::string format_value(double v);

}  // namespace sluice::metrics
