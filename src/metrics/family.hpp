#pragma once
// What every metric family shares: a validated name, HELP text, label names, the TYPE it
// renders as, and the rendering of its samples in the text exposition format. Concrete
// families (counter.hpp, gauge.hpp, histogram.hpp, callback_family.hpp) add their series.
// A family's name and labels are fixed at construction, so the base is immutable and
// thread-safe; each concrete family documents its own locking.

#include <array>
#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::metrics {

// Label values, in the order of the family's label names.
using Labels = std::vector<std::string>;

// Label values as views, for updates on the request path: `inc({route, status}, 1)` looks the
// series up without allocating (the map's key is built only when a series is new). Holds at
// most kMaxLabels views; the strings must outlive the call.
class LabelValues {
 public:
  static constexpr std::size_t kMaxLabels = 8;
  LabelValues(std::initializer_list<std::string_view> values) {  // NOLINT: implicit on purpose
    if (values.size() > kMaxLabels) throw std::invalid_argument("metrics: too many label values");
    for (auto v : values) views_[size_++] = v;
  }
  LabelValues(const Labels& values) {  // NOLINT: implicit on purpose
    if (values.size() > kMaxLabels) throw std::invalid_argument("metrics: too many label values");
    for (const auto& v : values) views_[size_++] = v;
  }
  std::size_t size() const { return size_; }
  const std::string_view* begin() const { return views_.data(); }
  const std::string_view* end() const { return views_.data() + size_; }
  Labels to_labels() const { return Labels(begin(), end()); }

 private:
  std::array<std::string_view, kMaxLabels> views_{};
  std::size_t size_ = 0;
};

// Hash and equality of a label-value list, the same for owned Labels and LabelValues, so series
// maps are searched with views (heterogeneous lookup) and keyed by owned strings.
struct LabelsHash {
  using is_transparent = void;
  std::size_t operator()(const Labels& values) const noexcept { return (*this)(LabelValues(values)); }
  std::size_t operator()(const LabelValues& values) const noexcept;
};
struct LabelsEqual {
  using is_transparent = void;
  bool operator()(const Labels& a, const Labels& b) const noexcept { return a == b; }
  bool operator()(const LabelValues& a, const Labels& b) const noexcept;
  bool operator()(const Labels& a, const LabelValues& b) const noexcept { return (*this)(b, a); }
};

// The series a family updated last, so that the usual update — the same route, model and project
// as the request before, or one of the few token types — costs a compare of a few short strings
// instead of hashing them and searching the series map (which a request does about ten times in
// its finish phase). Holds pointers to map entries: they stay valid because a series map only
// ever grows (an unordered_map rehash moves no element). Guarded by its family's mutex.
template <class Value>
class RecentSeries {
 public:
  using Entry = std::pair<const Labels, Value>;
  Entry* find(const LabelValues& values) const {
    for (Entry* e : entries_) {
      if (e != nullptr && LabelsEqual{}(values, e->first)) return e;
    }
    return nullptr;
  }
  // The oldest remembered entry makes room.
  void remember(Entry* e) {
    entries_[next_] = e;
    next_ = (next_ + 1) % entries_.size();
  }

 private:
  std::array<Entry*, 4> entries_{};
  std::size_t next_ = 0;
};

// One rendered sample of a scalar (counter or gauge) series.
using Sample = std::pair<Labels, double>;

class Family {
 public:
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // The sample names this family writes (e.g. x_bucket, x_sum, x_count for a histogram), so
  // the registry can refuse two families whose samples would collide.
  virtual std::vector<std::string> sample_names() const { return {name_}; }
  // Appends HELP, TYPE and every series, sorted by label values.
  virtual void render(std::string& out) const = 0;

 protected:
  // Throws std::invalid_argument for an invalid metric or label name, or a repeated label.
  Family(std::string name, std::string help, std::vector<std::string> label_names, const char* type);

  // Throws std::invalid_argument unless `values` has one value per label name.
  void check_arity(const LabelValues& values) const;
  void render_header(std::string& out) const;
  // Appends `name_suffix{l1="v1",...,extra_name="extra_value"}` (no braces without labels).
  void render_series_name(std::string& out, std::string_view suffix, const Labels& values,
                          std::string_view extra_name = {}, std::string_view extra_value = {}) const;
  // Sorts by labels and appends one `name{...} value` line per sample.
  void render_samples(std::string& out, std::vector<Sample>& samples) const;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  const char* type_;
};

}  // namespace sluice::metrics
