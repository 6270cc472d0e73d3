#pragma once
// Event ids of a resumable sluice stream: `<stream-id>:<seq>`, seq decimal from 1. Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::client {

// The seq of an event id of stream `stream_id`; nullopt when `id` is not of that form.
std::optional<std::uint64_t> event_seq(std::string_view id, std::string_view stream_id);
// The Last-Event-ID value that asks for the events after `seq`.
std::string last_event_id(std::string_view stream_id, std::uint64_t seq);

}  // namespace sluice::client
