#include "translate/names.hpp"

#include <string>

#include "translate/chat_response.hpp"
#include "translate/chat_stream.hpp"

#include <gtest/gtest.h>

namespace sluice::translate {
namespace {

TEST(ToolNames, SafeNamesPassAndOthersMapBack) {
  ToolNames names;
  EXPECT_EQ(names.to_upstream("Bash"), "Bash");
  EXPECT_EQ(names.to_upstream("mcp__github__create_issue"), "mcp__github__create_issue");
  const std::string long_name = "mcp__a_very_long_server_name_for_testing__and_an_even_longer_tool_name_here";
  const std::string dotted = "files.read";
  const std::string up_long = names.to_upstream(long_name);
  const std::string up_dotted = names.to_upstream(dotted);
  EXPECT_TRUE(is_openai_safe_name(up_long)) << up_long;
  EXPECT_EQ(up_long.size(), 64u);
  EXPECT_TRUE(up_dotted.starts_with("files_read_")) << up_dotted;
  EXPECT_EQ(names.to_client(up_long), long_name);
  EXPECT_EQ(names.to_client(up_dotted), dotted);
  EXPECT_EQ(names.to_client("Bash"), "Bash");
  EXPECT_EQ(names.to_upstream(long_name), up_long);  // stable
}

TEST(ToolIds, UnsafeIdsRoundTripWithoutState) {
  EXPECT_EQ(tool_id_to_client("call_abc-123"), "call_abc-123");
  const std::string id = tool_id_to_client("functions.Bash:0");
  EXPECT_EQ(id, "sluice_66756e6374696f6e732e426173683a30");
  EXPECT_EQ(tool_id_to_upstream(id), "functions.Bash:0");
  EXPECT_EQ(tool_id_to_upstream("toolu_01abc"), "toolu_01abc");
  // An upstream id that happens to start like ours is encoded too, so decoding never guesses.
  EXPECT_EQ(tool_id_to_upstream(tool_id_to_client("sluice_00")), "sluice_00");
  EXPECT_EQ(tool_id_to_upstream("sluice_zz"), "sluice_zz");
}

TEST(ChatUsage, ReportedOrNot) {
  EXPECT_TRUE(chat_has_usage(R"({"usage":{"prompt_tokens":3,"completion_tokens":4}})"));
  EXPECT_FALSE(chat_has_usage(R"({"choices":[]})"));
  EXPECT_FALSE(chat_has_usage(R"({"usage":null})"));
  ChatToMessagesStream with(StreamOptions{"m", 5, nullptr});
  std::string out;
  with.feed("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\n"
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n",
            out);
  EXPECT_TRUE(with.done());
  EXPECT_TRUE(with.usage_reported());
  ChatToMessagesStream without(StreamOptions{"m", 5, nullptr});
  without.feed("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", out);
  EXPECT_TRUE(without.done());
  EXPECT_FALSE(without.usage_reported());
}

}  // namespace
}  // namespace sluice::translate
