#include "mock/recorder.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "mock/json_text.hpp"
#include "mock/request_json.hpp"

namespace sluice::mock {

void Recorder::record(const IncomingRequest& req) {
  if (limit_ == 0) return;
  Entry e;
  e.method.assign(req.method);
  e.target.assign(req.target);
  e.request_id.assign(req.request_id);
  e.headers.reserve(req.headers.size());
  for (const auto& h : req.headers) {
    std::string name(h.name);
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    e.headers.emplace_back(std::move(name), std::string(h.value));
  }
  e.body.assign(req.body);
  std::lock_guard lock(mu_);
  if (entries_.size() >= limit_) entries_.pop_front();
  entries_.push_back(std::move(e));
}

std::string Recorder::to_json() const {
  namespace json = boost::json;
  json::array out;
  std::lock_guard lock(mu_);
  out.reserve(entries_.size());
  for (const auto& e : entries_) {
    json::object headers;
    for (const auto& [name, value] : e.headers) {
      const std::string v = sanitize_utf8(value);
      if (auto* existing = headers.if_contains(name)) {
        std::string joined(existing->get_string());
        joined.append(", ");
        joined.append(v);
        *existing = joined;
      } else {
        headers[name] = v;
      }
    }
    json::value body;
    if (!e.body.empty() && parse_json_body(e.body, body)) body = sanitize_utf8(e.body);
    out.push_back(json::object{{"method", e.method},
                               {"target", sanitize_utf8(e.target)},
                               {"request_id", e.request_id},
                               {"headers", std::move(headers)},
                               {"body", std::move(body)}});
  }
  return json::serialize(out);
}

void Recorder::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

std::size_t Recorder::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace sluice::mock
