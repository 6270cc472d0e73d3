#include "alerts/alert.hpp"

#include <gtest/gtest.h>

namespace sluice::alerts {
namespace {

TEST(Alert, SerialisesEveryFieldWithEscaping) {
  Alert a;
  a.kind = kLargeRequest;
  a.project = "p\"1";
  a.key_id = "key_1";
  a.request_id = "req_1";
  a.model = "claude-sonnet-4-5";
  a.tokens = 12'000;
  a.threshold = 10'000;
  a.ts_ms = 1'700'000'000'123;
  a.message = "two\nlines";
  EXPECT_EQ(a.to_json(),
            "{\"kind\":\"large_request\",\"project\":\"p\\\"1\",\"key_id\":\"key_1\",\"request_id\":\"req_1\","
            "\"model\":\"claude-sonnet-4-5\",\"tokens\":12000,\"threshold\":10000,\"baseline\":0,"
            "\"ts_ms\":1700000000123,\"ts\":\"2023-11-14T22:13:20.123Z\",\"message\":\"two\\nlines\"}");
}

TEST(Alert, BaselinePrintsAsAPlainNumber) {
  Alert a;
  a.baseline = 1234.5;
  EXPECT_NE(a.to_json().find("\"baseline\":1234.5,"), std::string::npos);
  a.baseline = 1000;
  EXPECT_NE(a.to_json().find("\"baseline\":1000,"), std::string::npos);
}

}  // namespace
}  // namespace sluice::alerts
