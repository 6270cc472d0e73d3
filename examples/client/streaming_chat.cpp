// Streams one answer from the Messages API and prints it as it arrives, then the final text and
// the usage. Retries (429, 529, 5xx) and, through a sluice gateway, the resume of a broken
// stream happen inside the library.
//
//   ANTHROPIC_BASE_URL=http://127.0.0.1:8787 ANTHROPIC_API_KEY=... ./streaming_chat "Hello"

#include <cstdio>
#include <cstdlib>
#include <string>

#include <sluice/client/client.hpp>

namespace sc = sluice::client;

int main(int argc, char** argv) {
  std::string prompt = argc > 1 ? argv[1] : "Hello!";
  const char* model = std::getenv("ANTHROPIC_MODEL");

  sc::Client client(sc::ClientOptions::from_env());
  sc::MessageRequest req;
  req.model = model ? model : "claude-sonnet-4-5";
  req.max_tokens = 512;
  req.messages.push_back(sc::MessageParam::user(prompt));

  sc::StreamCallbacks cb;
  cb.on_text = [](std::size_t, std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  };
  auto msg = client.messages.stream(req, cb);
  std::printf("\n");
  if (!msg) {
    std::fprintf(stderr, "error: %s\n", msg.error().to_string().c_str());
    return 1;
  }
  std::printf("[final] %s\n", msg->text().c_str());
  std::printf("[usage] input %lld, output %lld, stop %s\n", static_cast<long long>(msg->usage.input_tokens),
              static_cast<long long>(msg->usage.output_tokens), msg->stop_reason.c_str());
  return 0;
}
