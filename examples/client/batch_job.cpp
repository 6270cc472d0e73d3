// A batch job on the awaitable API: every prompt (one per line on stdin, or the arguments) is
// counted with count_tokens and answered, all concurrently, under a client-side rate limit.
// Prints each answer in input order, then the total usage.
//
//   printf 'one\ntwo\nthree\n' | ANTHROPIC_BASE_URL=http://127.0.0.1:8787 ANTHROPIC_API_KEY=... ./batch_job

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <sluice/client/client.hpp>

namespace net = boost::asio;
namespace sc = sluice::client;

namespace {
struct Job {
  std::string prompt;
  std::optional<sc::Result<sc::TokenCount>> counted;
  std::optional<sc::Result<sc::Message>> answer;
};

// `model` is taken by value: a coroutine must not keep references to its caller's temporaries.
net::awaitable<void> run(sc::Client& client, Job& job, std::string model) {
  sc::MessageRequest req;
  req.model = model;
  req.max_tokens = 256;
  req.messages.push_back(sc::MessageParam::user(job.prompt));
  auto count_req = req;
  auto counted = co_await client.messages.async_count_tokens(std::move(count_req));
  job.counted.emplace(std::move(counted));
  auto answer = co_await client.messages.async_create(std::move(req));
  job.answer.emplace(std::move(answer));
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<Job> jobs;
  for (int i = 1; i < argc; ++i) jobs.push_back(Job{argv[i], {}, {}});
  if (jobs.empty()) {
    for (std::string line; std::getline(std::cin, line);) {
      if (!line.empty()) jobs.push_back(Job{line, {}, {}});
    }
  }
  const char* model = std::getenv("ANTHROPIC_MODEL");
  auto options = sc::ClientOptions::from_env();
  options.rate_limit.requests_per_minute = 600;  // at most 10 requests a second, on average
  sc::Client client(options);

  const std::string model_name = model ? model : "claude-haiku-4-5";
  net::io_context io;
  for (auto& job : jobs) net::co_spawn(io, run(client, job, model_name), net::detached);
  io.run();

  long long input = 0, output = 0;
  int failed = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto& job = jobs[i];
    if (!job.answer || !*job.answer) {
      std::printf("[%zu] error: %s\n", i, job.answer ? job.answer->error().to_string().c_str() : "not run");
      ++failed;
      continue;
    }
    const auto& msg = job.answer->value();
    long long counted = job.counted && *job.counted ? static_cast<long long>(job.counted->value().input_tokens) : -1;
    std::printf("[%zu] (%lld input tokens counted) %s\n", i, counted, msg.text().c_str());
    input += msg.usage.input_tokens;
    output += msg.usage.output_tokens;
  }
  std::printf("[total] %zu prompts, %d failed, usage input %lld, output %lld\n", jobs.size(), failed, input, output);
  return failed == 0 ? 0 : 1;
}
