// Telegraf's graphite templates: "[filter] template [tag=value,...]" turns a dotted path such as
// servers.web01.cpu.load into a measurement, a field and tags.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::parsers::graphite {

// The measurement, field and tags a path maps to.
struct PathParts {
  std::string measurement;
  std::string field;  // empty: "value"
  std::vector<std::pair<std::string, std::string>> tags;
};

class Template {
 public:
  // Parses one entry of `templates`; std::nullopt with `error` set when it is malformed.
  static std::optional<Template> compile(std::string_view text, std::string* error);

  bool is_default() const { return filter_.empty(); }
  // Whether the filter matches the start of the path's segments, and how specifically: per
  // filter segment 1 for a literal, 0 for a glob; a greater score (compared element by element,
  // a longer one winning a tie) is the more specific match.
  // `scratch` holds a segment for the glob match (reused from line to line).
  bool matches(const std::vector<std::string_view>& segments, std::vector<int>* score,
               std::string& scratch) const;
  // Applies the template to the path's segments, joining repeated parts with `separator`.
  void apply(const std::vector<std::string_view>& segments, std::string_view separator,
             PathParts& out) const;
  const std::string& filter_text() const { return filter_text_; }

 private:
  enum class Kind { kSkip, kMeasurement, kMeasurementRest, kField, kFieldRest, kTag };
  struct Part {
    Kind kind;
    std::string tag;
  };
  std::string filter_text_;
  std::vector<std::string> filter_;
  std::vector<Part> parts_;
  std::vector<std::pair<std::string, std::string>> default_tags_;
};

// The templates of one parser, with the choice of the most specific match.
class TemplateSet {
 public:
  static std::optional<TemplateSet> compile(const std::vector<std::string>& texts,
                                            std::string* error);
  // Maps a path; without a matching template the whole path (segments joined with separator)
  // is the measurement and the field is "value".
  // Not const: it reuses scratch buffers, so that a line costs no allocation for the choice.
  void map(std::string_view path, std::string_view separator, PathParts& out);

 private:
  std::vector<Template> filtered_;
  std::optional<Template> default_;
  std::vector<std::string_view> segments_;
  std::vector<int> score_, best_score_;
  std::string scratch_;
};

}  // namespace sluice::parsers::graphite
