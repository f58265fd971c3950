#include "parsers/graphite/templates.hpp"

#include <fnmatch.h>

#include <algorithm>

namespace sluice::parsers::graphite {
namespace {

void split_into(std::string_view s, char sep, std::vector<std::string_view>& out) {
  out.clear();
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  split_into(s, sep, out);
  return out;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

bool is_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

void append_joined(std::string& to, std::string_view part, std::string_view separator) {
  if (!to.empty()) to += separator;
  to += part;
}

}  // namespace

std::optional<Template> Template::compile(std::string_view text, std::string* error) {
  std::vector<std::string_view> w = words(text);
  std::string_view filter, pattern, tags;
  if (w.size() == 1) {
    pattern = w[0];
  } else if (w.size() == 2 && w[1].find('=') != std::string_view::npos) {
    pattern = w[0];
    tags = w[1];
  } else if (w.size() == 2) {
    filter = w[0];
    pattern = w[1];
  } else if (w.size() == 3) {
    filter = w[0];
    pattern = w[1];
    tags = w[2];
  } else {
    *error = "template \"" + std::string(text) + "\" is not \"[filter] template [tag=value,...]\"";
    return std::nullopt;
  }
  Template t;
  t.filter_text_ = std::string(filter);
  if (!filter.empty()) {
    for (std::string_view f : split(filter, '.')) t.filter_.emplace_back(f);
  }
  bool measurement_rest = false, field_rest = false;
  for (std::string_view p : split(pattern, '.')) {
    if (p.empty()) {
      t.parts_.push_back({Kind::kSkip, {}});
    } else if (p == "measurement") {
      t.parts_.push_back({Kind::kMeasurement, {}});
    } else if (p == "measurement*") {
      t.parts_.push_back({Kind::kMeasurementRest, {}});
      measurement_rest = true;
    } else if (p == "field") {
      t.parts_.push_back({Kind::kField, {}});
    } else if (p == "field*") {
      t.parts_.push_back({Kind::kFieldRest, {}});
      field_rest = true;
    } else {
      t.parts_.push_back({Kind::kTag, std::string(p)});
    }
  }
  if (measurement_rest && field_rest) {
    *error = "template \"" + std::string(text) +
             "\": either field* or measurement* can be used, not both";
    return std::nullopt;
  }
  if (!tags.empty()) {
    for (std::string_view kv : split(tags, ',')) {
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0 || eq + 1 == kv.size()) {
        *error = "template \"" + std::string(text) + "\": tag \"" + std::string(kv) +
                 "\" is not key=value";
        return std::nullopt;
      }
      t.default_tags_.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  return t;
}

bool Template::matches(const std::vector<std::string_view>& segments, std::vector<int>* score,
                       std::string& scratch) const {
  if (filter_.size() > segments.size()) return false;
  score->clear();
  for (size_t i = 0; i < filter_.size(); ++i) {
    const std::string& f = filter_[i];
    if (is_glob(f)) {
      scratch.assign(segments[i]);
      if (fnmatch(f.c_str(), scratch.c_str(), 0) != 0) return false;
      score->push_back(0);
    } else {
      if (segments[i] != f) return false;
      score->push_back(1);
    }
  }
  return true;
}

void Template::apply(const std::vector<std::string_view>& segments, std::string_view separator,
                     PathParts& out) const {
  for (const auto& [k, v] : default_tags_) out.tags.emplace_back(k, v);
  // Tags from the path come after the template's, so they win (set_tag keeps the last).
  const auto path_tags = static_cast<std::ptrdiff_t>(out.tags.size());
  for (size_t i = 0; i < parts_.size() && i < segments.size(); ++i) {
    const Part& part = parts_[i];
    switch (part.kind) {
      case Kind::kSkip:
        break;
      case Kind::kMeasurement:
        append_joined(out.measurement, segments[i], separator);
        break;
      case Kind::kField:
        append_joined(out.field, segments[i], separator);
        break;
      case Kind::kMeasurementRest:
      case Kind::kFieldRest: {
        std::string& to = part.kind == Kind::kMeasurementRest ? out.measurement : out.field;
        for (size_t j = i; j < segments.size(); ++j) append_joined(to, segments[j], separator);
        i = segments.size();
        break;
      }
      case Kind::kTag: {
        auto it = std::find_if(out.tags.begin() + path_tags, out.tags.end(),
                               [&](const auto& t) { return t.first == part.tag; });
        if (it == out.tags.end()) {
          out.tags.emplace_back(part.tag, std::string(segments[i]));
        } else {
          append_joined(it->second, segments[i], separator);
        }
        break;
      }
    }
  }
}

std::optional<TemplateSet> TemplateSet::compile(const std::vector<std::string>& texts,
                                                std::string* error) {
  TemplateSet set;
  for (const std::string& text : texts) {
    auto t = Template::compile(text, error);
    if (!t) return std::nullopt;
    if (t->is_default()) {
      if (set.default_) {
        *error =
            "there can be only one default template (one without a filter), found a second: \"" +
            text + "\"";
        return std::nullopt;
      }
      set.default_ = std::move(*t);
    } else {
      set.filtered_.push_back(std::move(*t));
    }
  }
  return set;
}

void TemplateSet::map(std::string_view path, std::string_view separator, PathParts& out) {
  split_into(path, '.', segments_);
  const Template* best = nullptr;
  for (const Template& t : filtered_) {
    if (t.matches(segments_, &score_, scratch_) && (best == nullptr || score_ > best_score_)) {
      best = &t;
      best_score_.swap(score_);
    }
  }
  if (best == nullptr && default_) best = &*default_;
  if (best != nullptr) best->apply(segments_, separator, out);
  if (out.measurement.empty()) {
    for (std::string_view s : segments_) append_joined(out.measurement, s, separator);
  }
}

}  // namespace sluice::parsers::graphite
