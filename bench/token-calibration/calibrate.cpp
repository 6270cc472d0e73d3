// Measures sluice's local token estimate against reference token counts, and fits its
// coefficients (docs/context-guard.md). Every other sample of each kind is held out: fits use
// the rest, and every table and check is computed on the held-out half only, so the figures
// are the estimate's error on text it was not fitted to.
//
//   token_calibrate samples.jsonl                 table of estimate/reference ratios per kind
//   token_calibrate samples.jsonl --fit claude    least-squares coefficients for one tokenizer
//   token_calibrate samples.jsonl --check claude 0.80 1.15
//       exit 1 unless every kind's total estimate is within [0.80, 1.15] x the reference
//
// samples.jsonl comes from count.mjs: {"kind","source","text","claude","cl100k","o200k"} per line.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "stages/context/token_estimate.hpp"

namespace {

using sluice::stages::context::Coefficients;
using sluice::stages::context::TextFeatures;

constexpr const char* kTokenizers[] = {"claude", "cl100k", "o200k"};

struct Sample {
  std::string kind;
  bool held_out = false;  // every other sample of a kind
  std::size_t bytes = 0;
  TextFeatures features;
  std::map<std::string, double> reference;  // tokenizer -> tokens
};

std::vector<Sample> load(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path);
    std::exit(2);
  }
  std::vector<Sample> out;
  std::map<std::string, std::size_t> per_kind;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto v = boost::json::parse(line).as_object();
    Sample s;
    s.kind = std::string(v.at("kind").as_string());
    s.held_out = per_kind[s.kind]++ % 2 == 1;
    auto text = v.at("text").as_string();
    s.bytes = text.size();
    s.features.add({text.data(), text.size()});
    for (const char* t : kTokenizers) s.reference[t] = v.at(t).to_number<double>();
    out.push_back(std::move(s));
  }
  return out;
}

double estimate(const TextFeatures& f, const Coefficients& c) {
  return static_cast<double>(sluice::stages::context::estimate_tokens(f, c));
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

// Σ estimate / Σ reference per kind (the error of a long prompt of that kind), and the spread
// of single samples (the error of a short one).
struct KindStats {
  double total_ratio = 0;
  double p05 = 0, p50 = 0, p95 = 0;
  std::size_t samples = 0;
  double reference_tokens = 0;
  double bytes = 0;
};

std::map<std::string, KindStats> stats(const std::vector<Sample>& samples, const std::string& tokenizer,
                                       const Coefficients& c) {
  std::map<std::string, std::vector<const Sample*>> by_kind;
  for (const auto& s : samples) {
    if (!s.held_out) continue;
    by_kind[s.kind].push_back(&s);
    by_kind["all"].push_back(&s);
  }
  std::map<std::string, KindStats> out;
  for (const auto& [kind, list] : by_kind) {
    KindStats k;
    double est = 0;
    std::vector<double> ratios;
    for (const auto* s : list) {
      double e = estimate(s->features, c);
      double r = s->reference.at(tokenizer);
      est += e;
      k.reference_tokens += r;
      k.bytes += static_cast<double>(s->bytes);
      if (r >= 50) ratios.push_back(e / r);
    }
    k.samples = list.size();
    k.total_ratio = k.reference_tokens > 0 ? est / k.reference_tokens : 0;
    k.p05 = quantile(ratios, 0.05);
    k.p50 = quantile(ratios, 0.50);
    k.p95 = quantile(ratios, 0.95);
    out[kind] = k;
  }
  return out;
}

void print_table(const std::vector<Sample>& samples, const Coefficients& c) {
  std::printf("| kind | samples | bytes/token (claude) |");
  for (const char* t : kTokenizers) std::printf(" %s: total ratio (p5–p95 per sample) |", t);
  std::printf("\n|---|---:|---:|");
  for (std::size_t i = 0; i < std::size(kTokenizers); ++i) std::printf("---|");
  std::printf("\n");
  std::map<std::string, std::map<std::string, KindStats>> all;
  for (const char* t : kTokenizers) all[t] = stats(samples, t, c);
  for (const auto& [kind, k] : all["claude"]) {
    std::printf("| %s | %zu | %.2f |", kind.c_str(), k.samples, k.bytes / k.reference_tokens);
    for (const char* t : kTokenizers) {
      const auto& s = all[t][kind];
      std::printf(" %.3f (%.2f–%.2f) |", s.total_ratio, s.p05, s.p95);
    }
    std::printf("\n");
  }
}

// Lower bounds of coefficients the corpus alone leaves loose. Few long words: a word of 13
// letters or more costs at least a token, and each letter past the 12th at least an eighth
// (the longest common BPE pieces), whatever the fit prefers.
Coefficients floors() {
  Coefficients f{};
  f[TextFeatures::Words13] = 1.0;
  f[TextFeatures::LongExtra] = 1.0 / 8;
  // The corpus holds one Greek text (vim's tutor), too little to fit on: whichever half gets
  // its big samples decides the weight. Newer tokenizers spend half a token or less per Greek
  // letter, the published Claude one about one; the floor sits low, the safe side for a guard.
  f[TextFeatures::Greek] = 0.6;
  return f;
}

// Weighted least squares on relative error (each sample weighted by 1/reference²). A coefficient
// that comes out below its floor (0 for most) is fixed at the floor and the rest refitted.
Coefficients fit(const std::vector<Sample>& samples, const std::string& tokenizer) {
  constexpr std::size_t n = TextFeatures::kCount;
  const Coefficients low = floors();
  std::vector<bool> active(n, true);
  for (;;) {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < n; ++i) {
      if (active[i]) idx.push_back(i);
    }
    const std::size_t m = idx.size();
    std::vector<double> a(m * (m + 1), 0.0);  // augmented normal equations
    // Each kind carries equal weight, whatever its sample count.
    std::map<std::string, double> kind_count;
    for (const auto& s : samples) kind_count[s.kind] += 1;
    for (const auto& s : samples) {
      if (s.held_out) continue;
      double y = s.reference.at(tokenizer);
      if (y < 1) continue;
      double w = 1.0 / (y * y) / kind_count[s.kind];
      for (std::size_t i = 0; i < n; ++i) {
        if (!active[i]) y -= low[i] * static_cast<double>(s.features.n[i]);  // fixed part
      }
      for (std::size_t r = 0; r < m; ++r) {
        double xr = static_cast<double>(s.features.n[idx[r]]);
        for (std::size_t col = 0; col < m; ++col) a[r * (m + 1) + col] += w * xr * static_cast<double>(s.features.n[idx[col]]);
        a[r * (m + 1) + m] += w * xr * y;
      }
    }
    for (std::size_t r = 0; r < m; ++r) a[r * (m + 1) + r] += 1e-12;  // features absent from the corpus
    // Gauss-Jordan elimination with partial pivoting.
    for (std::size_t col = 0; col < m; ++col) {
      std::size_t piv = col;
      for (std::size_t r = col + 1; r < m; ++r) {
        if (std::fabs(a[r * (m + 1) + col]) > std::fabs(a[piv * (m + 1) + col])) piv = r;
      }
      for (std::size_t k = 0; k <= m; ++k) std::swap(a[col * (m + 1) + k], a[piv * (m + 1) + k]);
      double d = a[col * (m + 1) + col];
      for (std::size_t k = 0; k <= m; ++k) a[col * (m + 1) + k] /= d;
      for (std::size_t r = 0; r < m; ++r) {
        if (r == col) continue;
        double f = a[r * (m + 1) + col];
        for (std::size_t k = 0; k <= m; ++k) a[r * (m + 1) + k] -= f * a[col * (m + 1) + k];
      }
    }
    Coefficients c = low;
    bool below = false;
    for (std::size_t r = 0; r < m; ++r) {
      c[idx[r]] = a[r * (m + 1) + m];
      if (c[idx[r]] < low[idx[r]]) {
        active[idx[r]] = false;
        below = true;
      }
    }
    if (!below) return c;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: token_calibrate samples.jsonl [--fit TOKENIZER | --check TOKENIZER LOW HIGH]\n");
    return 2;
  }
  auto samples = load(argv[1]);
  const auto& c = sluice::stages::context::default_coefficients();
  std::string mode = argc >= 3 ? argv[2] : "";
  if (mode == "--fit" && argc >= 4) {
    auto fitted = fit(samples, argv[3]);
    std::printf("fitted for %s:", argv[3]);
    for (double v : fitted) std::printf(" %.4f", v);
    std::printf("\n");
    print_table(samples, fitted);
    return 0;
  }
  print_table(samples, c);
  if (mode == "--check" && argc >= 6) {
    const double low = std::atof(argv[4]);
    const double high = std::atof(argv[5]);
    bool ok = true;
    for (const auto& [kind, k] : stats(samples, argv[3], c)) {
      if (k.total_ratio < low || k.total_ratio > high) {
        std::fprintf(stderr, "%s: estimate/%s = %.3f, outside [%.2f, %.2f]\n", kind.c_str(), argv[3], k.total_ratio,
                     low, high);
        ok = false;
      }
    }
    return ok ? 0 : 1;
  }
  return 0;
}
