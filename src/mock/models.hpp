#pragma once
// The model catalogue of the mock: GET /v1/models and /v1/models/{id} in the Anthropic shape
// (ModelInfo, §1.1) and, for OpenAI clients, in OpenAI's {"object":"list"} shape.
// Immutable after construction; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::mock {

struct ModelInfo {
  std::string id;            // e.g. claude-sonnet-4-5-20250929
  std::string display_name;  // e.g. Claude Sonnet 4.5
  std::string created_at;    // RFC 3339
};

class ModelCatalog {
 public:
  // `ids` empty = a built-in list of current Claude models.
  explicit ModelCatalog(const std::vector<std::string>& ids);

  // By exact id, or by alias: an id without its -YYYYMMDD date suffix. nullptr if unknown.
  const ModelInfo* find(std::string_view id) const;
  // {"data":[…],"has_more":…,"first_id":…,"last_id":…}; `limit` 1–1000 (default 20),
  // `after_id` / `before_id` page through the list as the real API does.
  std::string anthropic_list(std::size_t limit, std::string_view after_id, std::string_view before_id) const;
  std::string anthropic_model(const ModelInfo& m) const;
  // {"object":"list","data":[{"id","object":"model","created","owned_by"}]}
  std::string openai_list() const;

  const std::vector<ModelInfo>& models() const { return models_; }

 private:
  std::vector<ModelInfo> models_;
};

}  // namespace sluice::mock
