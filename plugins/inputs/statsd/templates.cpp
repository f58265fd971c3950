#include "templates.hpp"

#include <algorithm>

#include "core/glob.hpp"
#include "sluice/options.hpp"

namespace sluice::inputs::statsd {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? s.npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
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

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

}  // namespace

Templates::Templates(const std::vector<std::string>& specs, std::string separator)
    : separator_(std::move(separator)) {
  default_.parts = {"measurement*"};
  for (const std::string& spec : specs) {
    std::vector<std::string_view> w = words(spec);
    if (w.empty() || w.size() > 3) {
      throw OptionError("templates",
                        "\"" + spec + "\" is not \"[filter] template [tag=value,...]\"");
    }
    Template t;
    t.order = templates_.size();
    std::string_view tmpl;
    std::string_view tags;
    if (w.size() == 3) {
      for (std::string_view f : split(w[0], '.')) t.filter.emplace_back(f);
      tmpl = w[1];
      tags = w[2];
    } else if (w.size() == 2 && w[1].find('=') != std::string_view::npos) {
      tmpl = w[0];
      tags = w[1];
    } else if (w.size() == 2) {
      for (std::string_view f : split(w[0], '.')) t.filter.emplace_back(f);
      tmpl = w[1];
    } else {
      tmpl = w[0];
    }
    bool has_measurement = false;
    for (std::string_view p : split(tmpl, '.')) {
      t.parts.emplace_back(p);
      has_measurement = has_measurement || p.starts_with("measurement");
    }
    if (!has_measurement) {
      throw OptionError("templates", "\"" + spec + "\": the template names no measurement part");
    }
    if (!tags.empty()) {
      for (std::string_view kv : split(tags, ',')) {
        size_t eq = kv.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == kv.size()) {
          throw OptionError("templates",
                            "\"" + spec + "\": tag \"" + std::string(kv) + "\" is not key=value");
        }
        t.tags.push_back({std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1))});
      }
    }
    if (t.filter.empty()) {
      default_ = std::move(t);  // a template without a filter applies to every other bucket
    } else {
      templates_.push_back(std::move(t));
    }
  }
}

const Templates::Template* Templates::match(const std::vector<std::string_view>& bucket) const {
  const Template* best = nullptr;
  size_t best_literal = 0;
  for (const Template& t : templates_) {
    if (t.filter.size() > bucket.size()) continue;
    bool ok = true;
    size_t literal = 0;
    for (size_t i = 0; i < t.filter.size() && ok; ++i) {
      ok = core::glob_match(t.filter[i], bucket[i]);
      if (!has_wildcard(t.filter[i])) ++literal;
    }
    if (!ok) continue;
    // The filter with more parts, then with more literal parts, is the more specific.
    if (best == nullptr || t.filter.size() > best->filter.size() ||
        (t.filter.size() == best->filter.size() && literal > best_literal)) {
      best = &t;
      best_literal = literal;
    }
  }
  return best;
}

NameParts Templates::apply(std::string_view bucket) const {
  std::vector<std::string_view> parts = split(bucket, '.');
  const Template* t = match(parts);
  if (t == nullptr) t = &default_;
  NameParts out;
  out.tags = t->tags;
  std::vector<std::string_view> measurement, field;
  std::vector<std::pair<std::string, std::string>> tags;
  for (size_t i = 0; i < t->parts.size() && i < parts.size(); ++i) {
    const std::string& p = t->parts[i];
    if (p == "measurement") {
      measurement.push_back(parts[i]);
    } else if (p == "measurement*") {
      measurement.insert(measurement.end(), parts.begin() + static_cast<ptrdiff_t>(i), parts.end());
      break;
    } else if (p == "field") {
      field.push_back(parts[i]);
    } else if (p == "field*") {
      field.insert(field.end(), parts.begin() + static_cast<ptrdiff_t>(i), parts.end());
      break;
    } else if (!p.empty()) {
      auto it =
          std::find_if(tags.begin(), tags.end(), [&](const auto& kv) { return kv.first == p; });
      if (it == tags.end()) {
        tags.emplace_back(p, std::string(parts[i]));
      } else {
        it->second += separator_ + std::string(parts[i]);  // a tag named twice joins its parts
      }
    }
  }
  auto join = [&](const std::vector<std::string_view>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) s += separator_;
      s += v[i];
    }
    return s;
  };
  out.measurement = measurement.empty() ? std::string(bucket) : join(measurement);
  out.field = join(field);
  for (auto& [k, v] : tags) out.tags.push_back({std::move(k), std::move(v)});
  return out;
}

}  // namespace sluice::inputs::statsd
