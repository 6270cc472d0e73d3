#include "metrics/family.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "metrics/exposition.hpp"

namespace sluice::metrics {

std::size_t LabelsHash::operator()(const LabelValues& values) const noexcept {
  std::size_t h = values.size();
  for (auto v : values) {
    h ^= std::hash<std::string_view>{}(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }
  return h;
}

bool LabelsEqual::operator()(const LabelValues& a, const Labels& b) const noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](std::string_view x, const std::string& y) { return x == y; });
}

Family::Family(std::string name, std::string help, std::vector<std::string> label_names, const char* type)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), type_(type) {
  if (!valid_metric_name(name_)) throw std::invalid_argument("invalid metric name '" + name_ + "'");
  // Updates take label values as a LabelValues, which holds at most kMaxLabels.
  if (label_names_.size() > LabelValues::kMaxLabels) {
    throw std::invalid_argument("metric " + name_ + ": more than " + std::to_string(LabelValues::kMaxLabels) + " labels");
  }
  for (std::size_t i = 0; i < label_names_.size(); ++i) {
    const auto& l = label_names_[i];
    if (!valid_label_name(l)) throw std::invalid_argument("metric " + name_ + ": invalid label name '" + l + "'");
    if (std::find(label_names_.begin(), label_names_.begin() + static_cast<std::ptrdiff_t>(i), l) !=
        label_names_.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument("metric " + name_ + ": label '" + l + "' given twice");
    }
  }
}

void Family::check_arity(const LabelValues& values) const {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + ": " + std::to_string(values.size()) +
                                " label values for " + std::to_string(label_names_.size()) + " labels");
  }
}

void Family::render_header(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  append_help(out, help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_;
  out += '\n';
}

void Family::render_series_name(std::string& out, std::string_view suffix, const Labels& values,
                                std::string_view extra_name, std::string_view extra_value) const {
  out += name_;
  out += suffix;
  if (label_names_.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  auto label = [&](std::string_view n, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out += n;
    out += "=\"";
    append_label_value(out, v);
    out += '"';
  };
  for (std::size_t i = 0; i < label_names_.size(); ++i) label(label_names_[i], values[i]);
  if (!extra_name.empty()) label(extra_name, extra_value);
  out += '}';
}

void Family::render_samples(std::string& out, std::vector<Sample>& samples) const {
  std::sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) { return a.first < b.first; });
  for (const auto& [values, value] : samples) {
    render_series_name(out, {}, values);
    out += ' ';
    append_value(out, value);
    out += '\n';
  }
}

}  // namespace sluice::metrics
