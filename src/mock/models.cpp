#include "mock/models.hpp"

#include <algorithm>

#include "mock/json_text.hpp"

namespace sluice::mock {
namespace {

void append_model(std::string& out, const ModelInfo& m) {
  out.append("{\"type\":\"model\",\"id\":");
  append_json_string(out, m.id);
  out.append(",\"display_name\":");
  append_json_string(out, m.display_name);
  out.append(",\"created_at\":");
  append_json_string(out, m.created_at);
  out.push_back('}');
}

// The date suffix of an id like claude-opus-4-1-20250805 ("-20250805"), or empty.
std::string_view date_suffix(std::string_view id) {
  if (id.size() < 9 || id[id.size() - 9] != '-') return {};
  for (std::size_t i = id.size() - 8; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return {};
  }
  return id.substr(id.size() - 9);
}

}  // namespace

ModelCatalog::ModelCatalog(const std::vector<std::string>& ids) {
  if (ids.empty()) {
    // Newest first, as the real API lists them; Claude Code's default model is among them.
    models_ = {
        {"claude-opus-5-5", "Claude Opus 5.5", "2026-09-01T00:00:00Z"},
        {"claude-sonnet-5-5", "Claude Sonnet 5.5", "2026-09-01T00:00:00Z"},
        {"claude-haiku-5-5", "Claude Haiku 5.5", "2026-09-01T00:00:00Z"},
        {"claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-01T00:00:00Z"},
        {"claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"},
        {"claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"},
    };
    return;
  }
  for (const auto& id : ids) {
    std::string created = "2025-01-01T00:00:00Z";
    if (auto d = date_suffix(id); !d.empty()) {
      created = std::string(d.substr(1, 4)) + "-" + std::string(d.substr(5, 2)) + "-" +
                std::string(d.substr(7, 2)) + "T00:00:00Z";
    }
    models_.push_back({id, id, std::move(created)});
  }
}

const ModelInfo* ModelCatalog::find(std::string_view id) const {
  for (const auto& m : models_) {
    if (m.id == id) return &m;
  }
  for (const auto& m : models_) {
    const std::string_view mid = m.id;
    const auto d = date_suffix(mid);
    if (!d.empty() && mid.substr(0, mid.size() - d.size()) == id) return &m;
  }
  return nullptr;
}

std::string ModelCatalog::anthropic_list(std::size_t limit, std::string_view after_id,
                                         std::string_view before_id) const {
  std::size_t begin = 0;
  std::size_t end = models_.size();
  auto index_of = [&](std::string_view id) -> std::size_t {
    for (std::size_t i = 0; i < models_.size(); ++i) {
      if (models_[i].id == id) return i;
    }
    return models_.size();
  };
  if (!after_id.empty()) begin = std::min(index_of(after_id) + 1, models_.size());
  if (!before_id.empty()) end = std::min(index_of(before_id), models_.size());
  if (begin > end) begin = end;
  bool has_more = false;
  if (end - begin > limit) {
    has_more = true;
    if (!before_id.empty() && after_id.empty()) {
      begin = end - limit;  // paging backwards: the page just before before_id
    } else {
      end = begin + limit;
    }
  }
  std::string out = "{\"data\":[";
  for (std::size_t i = begin; i < end; ++i) {
    if (i != begin) out.push_back(',');
    append_model(out, models_[i]);
  }
  out.append("],\"has_more\":");
  out.append(has_more ? "true" : "false");
  out.append(",\"first_id\":");
  if (begin < end) {
    append_json_string(out, models_[begin].id);
  } else {
    out.append("null");
  }
  out.append(",\"last_id\":");
  if (begin < end) {
    append_json_string(out, models_[end - 1].id);
  } else {
    out.append("null");
  }
  out.push_back('}');
  return out;
}

std::string ModelCatalog::anthropic_model(const ModelInfo& m) const {
  std::string out;
  append_model(out, m);
  return out;
}

std::string ModelCatalog::openai_list() const {
  std::string out = "{\"object\":\"list\",\"data\":[";
  bool first = true;
  for (const auto& m : models_) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"id\":");
    append_json_string(out, m.id);
    out.append(",\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"sluice-mock\"}");
  }
  out.append("]}");
  return out;
}

}  // namespace sluice::mock
