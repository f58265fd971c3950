// The graphite data format: "path value [timestamp]" lines (plaintext protocol), with tagged
// paths ("path;tag=value;...") and Telegraf's templates to turn paths into measurement, field and
// tags.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "parsers/graphite/templates.hpp"
#include "parsers/parse_text.hpp"
#include "plugin/registry.hpp"

namespace sluice::parsers::graphite {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"separator", OptionType::kString, ".",
     "graphite parser: joins the path segments that make one measurement, field or tag"},
    {"templates", OptionType::kStringList, "",
     "graphite parser: \"[filter] template [tag=value,...]\" entries, most specific filter wins"},
};

// A word of a line and where it starts.
struct Word {
  std::string_view text;
  size_t column = 0;  // 1-based
};

class GraphiteParser : public Parser {
 public:
  GraphiteParser(TemplateSet templates, std::string separator)
      : templates_(std::move(templates)), separator_(std::move(separator)) {}

  void parse(std::string_view data, int64_t now, Batch& out,
             std::vector<ParseError>& errors) override {
    size_t line_no = 0;
    size_t start = 0;
    while (start < data.size()) {
      size_t end = data.find('\n', start);
      if (end == std::string_view::npos) end = data.size();
      ++line_no;
      std::string_view line = data.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      parse_line(line, line_no, now, out, errors);
      start = end + 1;
    }
  }

  bool splits_on_lines() const override { return true; }

 private:
  void parse_line(std::string_view line, size_t line_no, int64_t now, Batch& out,
                  std::vector<ParseError>& errors) {
    Word w[3];
    size_t n = 0;
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i >= line.size()) break;
      size_t begin = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      if (n == 3) {
        errors.push_back(
            {line_no, begin + 1, "more than three fields; expected \"path value [timestamp]\""});
        return;
      }
      w[n++] = {line.substr(begin, i - begin), begin + 1};
    }
    if (n == 0) return;  // a blank line
    if (n == 1) {
      errors.push_back({line_no, w[0].column + w[0].text.size(),
                        "missing value; expected \"path value [timestamp]\""});
      return;
    }
    std::optional<double> value = parse_float(w[1].text);
    if (!value) {
      errors.push_back(
          {line_no, w[1].column, "value \"" + excerpt(w[1].text) + "\" is not a number"});
      return;
    }
    if (std::isnan(*value) || std::isinf(*value)) {
      errors.push_back(
          {line_no, w[1].column, "value \"" + excerpt(w[1].text) + "\" is not finite"});
      return;
    }
    int64_t time = now;
    if (n == 3 && w[2].text != "-1" && w[2].text != "N") {
      std::optional<int64_t> t = parse_seconds(w[2].text);
      if (!t) {
        errors.push_back(
            {line_no, w[2].column, "timestamp \"" + excerpt(w[2].text) + "\" is not Unix seconds"});
        return;
      }
      time = *t;
    }

    // A tagged path: name;tag1=value1;tag2=value2
    std::string_view path = w[0].text;
    std::string_view tag_text;
    if (size_t semi = path.find(';'); semi != std::string_view::npos) {
      tag_text = path.substr(semi + 1);
      path = path.substr(0, semi);
    }
    if (path.empty()) {
      errors.push_back({line_no, w[0].column, "empty metric path"});
      return;
    }
    parts_.measurement.clear();
    parts_.field.clear();
    parts_.tags.clear();
    templates_.map(path, separator_, parts_);

    Metric metric(parts_.measurement, time);
    for (const auto& [k, v] : parts_.tags) metric.set_tag(k, v);
    size_t tag_column = w[0].column + path.size() + 1;
    while (!tag_text.empty()) {
      size_t semi = tag_text.find(';');
      std::string_view kv = tag_text.substr(0, semi);
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0 || eq + 1 == kv.size()) {
        errors.push_back({line_no, tag_column, "tag \"" + excerpt(kv) + "\" is not key=value"});
        return;
      }
      metric.set_tag(kv.substr(0, eq), kv.substr(eq + 1));
      if (semi == std::string_view::npos) break;
      tag_text.remove_prefix(semi + 1);
      tag_column += semi + 1;
    }
    metric.append_field(parts_.field.empty() ? std::string("value") : parts_.field, *value);
    out.push_back(std::move(metric));
  }

  // Unix seconds, with an optional fraction kept to the nanosecond.
  static std::optional<int64_t> parse_seconds(std::string_view text) {
    size_t dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::optional<int64_t> seconds = parse_int(whole);
    if (!seconds || *seconds > 9'223'372'035 || *seconds < -9'223'372'035) return std::nullopt;
    int64_t ns = 0;
    if (dot != std::string_view::npos) {
      std::string_view frac = text.substr(dot + 1);
      if (frac.empty() || frac.size() > 9) return std::nullopt;
      int64_t scale = 100'000'000;
      for (char c : frac) {
        if (c < '0' || c > '9') return std::nullopt;
        ns += (c - '0') * scale;
        scale /= 10;
      }
      if (whole.starts_with('-')) ns = -ns;
    }
    return *seconds * 1'000'000'000 + ns;
  }

  TemplateSet templates_;
  std::string separator_;
  PathParts parts_;  // reused from line to line
};

std::unique_ptr<Parser> create(const PluginContext& ctx) {
  std::string error;
  auto templates = TemplateSet::compile(ctx.options.get_strings("templates"), &error);
  if (!templates) throw OptionError("templates", error);
  return std::make_unique<GraphiteParser>(std::move(*templates),
                                          ctx.options.get_string("separator"));
}

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kParser;
  info.name = "graphite";
  info.description = "Graphite plaintext protocol, with Telegraf's templates";
  info.options = kOptions;
  info.create_parser = create;
  registry.add(std::move(info));
}

}  // namespace sluice::parsers::graphite
