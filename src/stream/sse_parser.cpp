// SSE parser and writer; see sse_parser.hpp and wire-protocols.md §7.

#include "stream/sse_parser.hpp"

#include <cstring>
#include <limits>

namespace sluice::stream {
namespace {

constexpr std::string_view kDefaultType = "message";
constexpr std::string_view kBom = "\xEF\xBB\xBF";
// A buffer grown past this by one huge line or event is released once used, so one large event
// does not pin its memory for the rest of a long-lived stream.
constexpr std::size_t kMaxRetainedBytes = std::size_t{1} << 20;

void release_or_clear(std::string& buffer) {
  if (buffer.capacity() > kMaxRetainedBytes) {
    std::string().swap(buffer);
  } else {
    buffer.clear();
  }
}

// Finds line ends (CR or LF) in one buffer. Remembers the next CR and the next LF found, so a
// buffer full of lines ended by one kind and holding none of the other is still scanned in
// O(n) overall rather than once per line.
class EolScanner {
 public:
  EolScanner(const char* begin, const char* end)
      : end_(end), lf_(find(begin, '\n')), cr_(find(begin, '\r')) {}

  // First CR or LF at or after p (p must not be before the last returned position), or end.
  const char* next(const char* p) {
    if (lf_ < p) lf_ = find(p, '\n');
    if (cr_ < p) cr_ = find(p, '\r');
    return lf_ < cr_ ? lf_ : cr_;
  }

 private:
  const char* find(const char* p, char c) const {
    if (p == end_) return end_;
    const void* hit = std::memchr(p, c, static_cast<std::size_t>(end_ - p));
    return hit != nullptr ? static_cast<const char*>(hit) : end_;
  }

  const char* end_;
  const char* lf_;
  const char* cr_;
};

}  // namespace

void SseParser::feed(std::string_view chunk, SseSink& sink) {
  const std::uint64_t base = fed_;
  fed_ += chunk.size();
  if (chunk.empty()) return;
  const char* const begin = chunk.data();
  const char* const end = begin + chunk.size();
  const char* p = begin;

  if (skip_lf_) {
    skip_lf_ = false;
    if (*p == '\n') {
      // Second half of a CRLF whose CR ended the previous chunk. If that CR ended an empty line
      // (boundary_ sits right after it), the LF belongs to the same terminator.
      if (boundary_ == base) boundary_ = base + 1;
      ++p;
    }
  }

  if (bom_pending_) {
    // line_ is empty at stream start; it collects the BOM bytes matched so far.
    while (p != end && line_.size() < kBom.size() && *p == kBom[line_.size()]) line_.push_back(*p++);
    if (line_.size() == kBom.size()) {
      line_.clear();  // one BOM stripped; never again on this stream
      bom_pending_ = false;
    } else if (p == end) {
      return;  // a BOM prefix so far: wait for more bytes
    } else {
      bom_pending_ = false;  // not a BOM: the held bytes are ordinary content of the first line
    }
  }

  EolScanner scan(p, end);
  while (p != end) {
    const char* eol = scan.next(p);
    if (eol == end) {
      line_.append(p, end);
      break;
    }
    std::size_t term = 1;
    if (*eol == '\r') {
      if (eol + 1 == end) {
        skip_lf_ = true;  // decided at the next chunk; the line ends here either way
      } else if (eol[1] == '\n') {
        term = 2;
      }
    }
    const std::uint64_t end_offset = base + static_cast<std::uint64_t>(eol - begin) + term;
    if (line_.empty()) {
      process_line(std::string_view(p, static_cast<std::size_t>(eol - p)), end_offset, sink);
    } else {
      line_.append(p, eol);
      process_line(line_, end_offset, sink);
      release_or_clear(line_);
    }
    p = eol + term;
  }
}

void SseParser::process_line(std::string_view line, std::uint64_t end_offset, SseSink& sink) {
  if (line.empty()) {
    boundary_ = end_offset;
    block_started_ = false;
    dispatch(sink);
    return;
  }
  block_started_ = true;
  if (line.front() == ':') return;  // comment

  std::string_view name = line;
  std::string_view value;
  if (const void* colon = std::memchr(line.data(), ':', line.size()); colon != nullptr) {
    const auto at = static_cast<std::size_t>(static_cast<const char*>(colon) - line.data());
    name = line.substr(0, at);
    value = line.substr(at + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }

  // Field names are case-sensitive; dispatch on length first to keep the common path short.
  switch (name.size()) {
    case 4:
      if (name == "data") {
        data_.append(value);
        data_.push_back('\n');
      }
      break;
    case 5:
      if (name == "event") {
        event_type_.assign(value);
      } else if (name == "retry") {
        if (value.empty()) break;
        std::uint64_t ms = 0;
        constexpr std::uint64_t kMax = std::numeric_limits<std::uint32_t>::max();
        for (const char c : value) {
          if (c < '0' || c > '9') return;  // not all digits: ignore the field
          if (ms <= kMax) ms = ms * 10 + static_cast<std::uint64_t>(c - '0');
        }
        retry_ms_ = static_cast<std::uint32_t>(ms < kMax ? ms : kMax);
      }
      break;
    case 2:
      if (name == "id" && value.find('\0') == std::string_view::npos) {
        id_buffer_.assign(value);
        id_dirty_ = true;
      }
      break;
    default:
      break;  // unknown field: ignored
  }
}

void SseParser::dispatch(SseSink& sink) {
  if (id_dirty_) {
    last_event_id_.assign(id_buffer_);
    id_dirty_ = false;
  }
  if (data_.empty()) {
    event_type_.clear();
    return;
  }
  const SseEvent ev{event_type_.empty() ? kDefaultType : std::string_view(event_type_),
                    std::string_view(data_.data(), data_.size() - 1),  // minus the trailing LF
                    last_event_id_};
  sink.on_event(ev);
  event_type_.clear();
  release_or_clear(data_);
}

void SseParser::reset() {
  line_.clear();
  data_.clear();
  event_type_.clear();
  id_buffer_.clear();
  last_event_id_.clear();
  retry_ms_.reset();
  fed_ = 0;
  boundary_ = 0;
  bom_pending_ = true;
  skip_lf_ = false;
  block_started_ = false;
  id_dirty_ = false;
}

void append_event(std::string& out, std::string_view type, std::string_view data,
                  std::string_view id) {
  type = type.substr(0, type.find_first_of("\r\n"));
  id = id.substr(0, id.find_first_of(std::string_view("\r\n\0", 3)));

  // Exact for single-line data (the common case: one JSON document); more lines just grow.
  out.reserve(out.size() + (type.empty() ? 0 : type.size() + 8) + (id.empty() ? 0 : id.size() + 5) +
              data.size() + 8);
  if (!type.empty()) {
    out.append("event: ").append(type).push_back('\n');
  }
  if (!id.empty()) {
    out.append("id: ").append(id).push_back('\n');
  }
  const char* p = data.data();
  const char* const end = p + data.size();
  EolScanner scan(p, end);
  for (;;) {
    const char* eol = scan.next(p);
    out.append("data: ").append(p, static_cast<std::size_t>(eol - p)).push_back('\n');
    if (eol == end) break;
    p = eol + ((*eol == '\r' && eol + 1 != end && eol[1] == '\n') ? 2 : 1);
  }
  out.push_back('\n');
}

std::string format_event(std::string_view type, std::string_view data, std::string_view id) {
  std::string out;
  append_event(out, type, data, id);
  return out;
}

}  // namespace sluice::stream
