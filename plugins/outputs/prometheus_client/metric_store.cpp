#include "metric_store.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "naming.hpp"

namespace sluice::outputs::prometheus_client {
namespace {

constexpr std::string_view kHelp = "sluice collected metric";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::optional<double> sample_value(const FieldValue& v) {
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto* u = std::get_if<uint64_t>(&v)) return static_cast<double>(*u);
  if (auto* b = std::get_if<bool>(&v)) return *b ? 1.0 : 0.0;
  return std::nullopt;
}

std::optional<double> sample_sum(const FieldValue& v) {
  if (std::holds_alternative<bool>(v)) return std::nullopt;
  return sample_value(v);
}

std::optional<uint64_t> sample_count(const FieldValue& v) {
  if (auto* d = std::get_if<double>(&v)) {
    if (!(*d >= 0) || *d >= 18446744073709551616.0) return std::nullopt;
    return static_cast<uint64_t>(*d);
  }
  if (auto* i = std::get_if<int64_t>(&v)) {
    if (*i < 0) return std::nullopt;
    return static_cast<uint64_t>(*i);
  }
  if (auto* u = std::get_if<uint64_t>(&v)) return *u;
  return std::nullopt;
}

std::string_view type_name(ValueType type) {
  switch (type) {
    case ValueType::kCounter:
      return "counter";
    case ValueType::kGauge:
      return "gauge";
    case ValueType::kHistogram:
      return "histogram";
    case ValueType::kSummary:
      return "summary";
    case ValueType::kUntyped:
      break;
  }
  return "untyped";
}

std::string float_text(double v) {
  std::string s;
  append_float(s, v);
  return s;
}

std::string bound_label(std::string_view name, double bound) {
  std::string s(name);
  s += "=\"";
  append_float(s, bound);
  s += '"';
  return s;
}

}  // namespace

size_t MetricStore::series_count() const {
  size_t n = 0;
  for (const auto& [name, family] : families_) n += family.series.size();
  return n;
}

std::string MetricStore::labels_of(const Metric& metric) const {
  std::vector<std::pair<std::string, std::string_view>> labels;
  labels.reserve(metric.tags().size());
  for (const TagRef tag : metric.tags()) {
    // These tags carry a bucket's bound and a quantile, which are parts of one series.
    if (metric.type() == ValueType::kHistogram && tag.key == "le") continue;
    if (metric.type() == ValueType::kSummary && tag.key == "quantile") continue;
    if (auto name = sanitize_label_name(tag.key)) labels.emplace_back(std::move(*name), tag.value);
  }
  if (options_.string_as_label) {
    for (const FieldRef field : metric.fields()) {
      const auto* text = std::get_if<std::string>(&field.value);
      if (text == nullptr) continue;
      if (auto name = sanitize_label_name(field.key)) labels.emplace_back(std::move(*name), *text);
    }
  }
  // Tags come first, so after a stable sort a tag wins over a string field (or a later tag)
  // that sanitizes to the same label name: a label may appear only once.
  std::stable_sort(labels.begin(), labels.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0 && labels[i].first == labels[i - 1].first) continue;
    if (!out.empty()) out += ',';
    out += labels[i].first;
    out += "=\"";
    append_label_value(out, labels[i].second);
    out += '"';
  }
  return out;
}

MetricStore::Series* MetricStore::series_for(const std::string& name, ValueType type,
                                             const std::string& labels, int64_t time_ns,
                                             int64_t now_ns) {
  auto [it, inserted] = families_.try_emplace(name);
  Family& family = it->second;
  // One name has one type in an exposition; the newest type takes the name over.
  if (inserted || family.type != type) {
    family.series.clear();
    family.type = type;
  }
  auto [sit, created] = family.series.try_emplace(labels);
  Series& series = sit->second;
  if (!created && time_ns < series.time_ns) return nullptr;
  series.time_ns = time_ns;
  series.added_ns = now_ns;
  return &series;
}

void MetricStore::add_scalar(const Metric& metric, const std::string& labels, int64_t now_ns) {
  for (const FieldRef field : metric.fields()) {
    auto value = sample_value(field.value);
    if (!value) continue;
    auto name = sanitize_metric_name(scalar_family_name(metric.name(), field.key, metric.type()));
    if (!name) continue;
    if (Series* s = series_for(*name, metric.type(), labels, metric.time(), now_ns)) {
      s->value = *value;
    }
  }
}

void MetricStore::add_histogram(const Metric& metric, const std::string& labels, int64_t now_ns) {
  // Two layouts: Telegraf's current one (fields <name>_bucket with an `le` tag, <name>_sum,
  // <name>_count, as the histogram aggregator and the prometheus input write them), and the
  // older one (one metric whose fields are named by the bucket bound, plus sum and count).
  std::optional<double> le;
  if (auto tag = metric.tag("le")) le = parse_bound(*tag);
  Series flat;
  bool has_flat = false;
  for (const FieldRef field : metric.fields()) {
    std::string_view key = field.key;
    if (ends_with(key, "_bucket") || ends_with(key, "_sum") || ends_with(key, "_count")) {
      bool bucket = ends_with(key, "_bucket");
      bool sum = ends_with(key, "_sum");
      std::string_view base = key.substr(0, key.rfind('_'));
      std::optional<uint64_t> count;
      std::optional<double> total;
      if (bucket) {
        if (!le) continue;
        if (!(count = sample_count(field.value))) continue;
      } else if (sum) {
        if (!(total = sample_sum(field.value))) continue;
      } else if (!(count = sample_count(field.value))) {
        continue;
      }
      auto name = sanitize_metric_name(joined_family_name(metric.name(), base));
      if (!name) continue;
      Series* s = series_for(*name, ValueType::kHistogram, labels, metric.time(), now_ns);
      if (s == nullptr) continue;
      if (bucket) {
        s->buckets[*le] = *count;
      } else if (sum) {
        s->sum = *total;
      } else {
        s->count = *count;
      }
    } else if (key == "sum") {
      if (auto v = sample_sum(field.value)) {
        flat.sum = *v;
        has_flat = true;
      }
    } else if (key == "count") {
      if (auto v = sample_count(field.value)) {
        flat.count = *v;
        has_flat = true;
      }
    } else if (auto bound = parse_bound(key)) {
      if (auto v = sample_count(field.value)) {
        flat.buckets[*bound] = *v;
        has_flat = true;
      }
    }
  }
  if (!has_flat) return;
  auto name = sanitize_metric_name(metric.name());
  if (!name) return;
  if (Series* s = series_for(*name, ValueType::kHistogram, labels, metric.time(), now_ns)) {
    // The older layout carries the whole histogram in one metric: it replaces the sample.
    flat.time_ns = s->time_ns;
    flat.added_ns = s->added_ns;
    *s = std::move(flat);
  }
}

void MetricStore::add_summary(const Metric& metric, const std::string& labels, int64_t now_ns) {
  // As for histograms: fields <name> with a `quantile` tag, <name>_sum and <name>_count; or one
  // metric whose fields are named by the quantile, plus sum and count.
  std::optional<double> quantile;
  bool has_quantile_tag = metric.has_tag("quantile");
  if (has_quantile_tag) quantile = parse_bound(*metric.tag("quantile"));
  Series flat;
  bool has_flat = false;
  for (const FieldRef field : metric.fields()) {
    std::string_view key = field.key;
    bool sum = ends_with(key, "_sum");
    bool count_field = ends_with(key, "_count");
    if (sum || count_field || has_quantile_tag) {
      std::string_view base = (sum || count_field) ? key.substr(0, key.rfind('_')) : key;
      std::optional<double> value;
      std::optional<uint64_t> count;
      if (sum) {
        if (!(value = sample_sum(field.value))) continue;
      } else if (count_field) {
        if (!(count = sample_count(field.value))) continue;
      } else {
        if (!quantile || !(value = sample_value(field.value))) continue;
      }
      auto name = sanitize_metric_name(joined_family_name(metric.name(), base));
      if (!name) continue;
      Series* s = series_for(*name, ValueType::kSummary, labels, metric.time(), now_ns);
      if (s == nullptr) continue;
      if (sum) {
        s->sum = *value;
      } else if (count_field) {
        s->count = *count;
      } else {
        s->quantiles[*quantile] = *value;
      }
    } else if (key == "sum") {
      if (auto v = sample_sum(field.value)) {
        flat.sum = *v;
        has_flat = true;
      }
    } else if (key == "count") {
      if (auto v = sample_count(field.value)) {
        flat.count = *v;
        has_flat = true;
      }
    } else if (auto q = parse_bound(key)) {
      if (auto v = sample_value(field.value)) {
        flat.quantiles[*q] = *v;
        has_flat = true;
      }
    }
  }
  if (!has_flat) return;
  auto name = sanitize_metric_name(metric.name());
  if (!name) return;
  if (Series* s = series_for(*name, ValueType::kSummary, labels, metric.time(), now_ns)) {
    flat.time_ns = s->time_ns;
    flat.added_ns = s->added_ns;
    *s = std::move(flat);
  }
}

void MetricStore::add(std::span<const Metric> batch, int64_t now_ns) {
  for (const Metric& metric : batch) {
    std::string labels = labels_of(metric);
    switch (metric.type()) {
      case ValueType::kHistogram:
        add_histogram(metric, labels, now_ns);
        break;
      case ValueType::kSummary:
        add_summary(metric, labels, now_ns);
        break;
      case ValueType::kCounter:
      case ValueType::kGauge:
      case ValueType::kUntyped:
        add_scalar(metric, labels, now_ns);
        break;
    }
  }
}

void MetricStore::expire(int64_t now_ns) {
  if (options_.expiration_ns <= 0) return;
  int64_t oldest = now_ns - options_.expiration_ns;
  for (auto it = families_.begin(); it != families_.end();) {
    std::erase_if(it->second.series,
                  [&](const auto& entry) { return entry.second.added_ns < oldest; });
    if (it->second.series.empty()) {
      it = families_.erase(it);
    } else {
      ++it;
    }
  }
}

void MetricStore::append_sample(std::string& out, const std::string& name,
                                const std::string& labels, std::string_view extra_label,
                                const std::string& value, int64_t time_ns) const {
  out += name;
  if (!labels.empty() || !extra_label.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra_label.empty()) out += ',';
    out += extra_label;
    out += '}';
  }
  out += ' ';
  out += value;
  if (options_.export_timestamp) {
    // Milliseconds, rounded toward the past.
    int64_t ms = time_ns / 1'000'000;
    if (time_ns < 0 && time_ns % 1'000'000 != 0) --ms;
    out += ' ';
    out += std::to_string(ms);
  }
  out += '\n';
}

std::string MetricStore::render() const {
  std::string out;
  for (const auto& [name, family] : families_) {
    if (family.series.empty()) continue;
    out += "# HELP ";
    out += name;
    out += ' ';
    out += kHelp;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type_name(family.type);
    out += '\n';
    for (const auto& [labels, s] : family.series) {
      switch (family.type) {
        case ValueType::kHistogram: {
          const std::string bucket_name = name + "_bucket";
          for (const auto& [bound, count] : s.buckets) {
            append_sample(out, bucket_name, labels, bound_label("le", bound), std::to_string(count),
                          s.time_ns);
          }
          // The +Inf bucket is mandatory and equals the count.
          if (s.buckets.empty() ||
              s.buckets.rbegin()->first != std::numeric_limits<double>::infinity()) {
            append_sample(out, bucket_name, labels, "le=\"+Inf\"", std::to_string(s.count),
                          s.time_ns);
          }
          append_sample(out, name + "_sum", labels, "", float_text(s.sum), s.time_ns);
          append_sample(out, name + "_count", labels, "", std::to_string(s.count), s.time_ns);
          break;
        }
        case ValueType::kSummary:
          for (const auto& [q, value] : s.quantiles) {
            append_sample(out, name, labels, bound_label("quantile", q), float_text(value),
                          s.time_ns);
          }
          append_sample(out, name + "_sum", labels, "", float_text(s.sum), s.time_ns);
          append_sample(out, name + "_count", labels, "", std::to_string(s.count), s.time_ns);
          break;
        case ValueType::kCounter:
        case ValueType::kGauge:
        case ValueType::kUntyped:
          append_sample(out, name, labels, "", float_text(s.value), s.time_ns);
          break;
      }
    }
  }
  return out;
}

}  // namespace sluice::outputs::prometheus_client
