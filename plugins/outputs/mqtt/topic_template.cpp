#include "topic_template.hpp"

#include <cctype>

#include "sluice/options.hpp"

namespace sluice::outputs::mqtt {
namespace {

constexpr std::string_view kSupported =
    "supported are {{ .Hostname }}, {{ .PluginName }}, {{ .Name }} and {{ .Tag \"key\" }}";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(std::string_view text, const std::string& why) {
  throw OptionError("topic", "invalid topic template \"" + std::string(text) + "\": " + why);
}

// A Go string literal: "..." with backslash escapes, or `...` taken as it is. Returns false
// when `s` is not exactly one such literal.
bool parse_string_literal(std::string_view s, std::string& out) {
  out.clear();
  if (s.size() < 2) return false;
  if (s.front() == '`') {
    if (s.back() != '`') return false;
    out.assign(s.substr(1, s.size() - 2));
    return out.find('`') == std::string::npos;
  }
  if (s.front() != '"' || s.back() != '"') return false;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    char c = s[i];
    if (c == '"') return false;
    if (c == '\\') {
      if (i + 2 >= s.size()) return false;
      char e = s[++i];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        default:
          return false;
      }
      continue;
    }
    out += c;
  }
  return true;
}

void append_segments(std::string& out, std::string_view rendered) {
  // Joins the non-empty segments of `rendered` with "/".
  size_t start = 0;
  while (start <= rendered.size()) {
    size_t slash = rendered.find('/', start);
    if (slash == std::string_view::npos) slash = rendered.size();
    if (slash > start) {
      if (!out.empty() && out != "/") out += '/';
      out.append(rendered.substr(start, slash - start));
    }
    start = slash + 1;
  }
}

}  // namespace

TopicTemplate::TopicTemplate(std::string_view text) {
  size_t pos = 0;
  bool trim_next_literal = false;
  auto add_literal = [&](std::string_view literal) {
    if (trim_next_literal) {
      while (!literal.empty() && is_space(literal.front())) literal.remove_prefix(1);
      trim_next_literal = false;
    }
    if (literal.empty()) return;
    if (literal.find_first_of("+#") != std::string_view::npos) {
      fail(text, "the MQTT wildcards + and # cannot appear in a topic one publishes to");
    }
    parts_.push_back(Part{Kind::kLiteral, std::string(literal)});
  };
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      add_literal(text.substr(pos));
      break;
    }
    std::string_view before = text.substr(pos, open - pos);
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) fail(text, "\"{{\" is never closed by \"}}\"");
    std::string_view body = text.substr(open + 2, close - open - 2);
    // Go's trim markers: "{{- " trims the space before the action, " -}}" the space after it.
    if (body.size() >= 2 && body[0] == '-' && is_space(body[1])) {
      while (!before.empty() && is_space(before.back())) before.remove_suffix(1);
      body.remove_prefix(1);
    }
    bool trim_after = false;
    if (body.size() >= 2 && body.back() == '-' && is_space(body[body.size() - 2])) {
      body.remove_suffix(1);
      trim_after = true;
    }
    add_literal(before);
    std::string_view action = trim(body);
    std::string shown = "{{" + std::string(body) + "}}";
    if (action == ".Hostname") {
      parts_.push_back(Part{Kind::kHostname, ""});
    } else if (action == ".PluginName" || action == ".Name") {
      parts_.push_back(Part{Kind::kName, ""});
    } else if (action.starts_with(".Tag") && action.size() > 4 && is_space(action[4])) {
      std::string key;
      if (!parse_string_literal(trim(action.substr(4)), key)) {
        fail(text, "the tag key in " + shown + " must be one quoted string, as {{ .Tag \"key\" }}");
      }
      parts_.push_back(Part{Kind::kTag, std::move(key)});
    } else {
      fail(text, "unknown action " + shown + "; " + std::string(kSupported));
    }
    trim_next_literal = trim_after;
    pos = close + 2;
  }
}

bool TopicTemplate::is_constant() const {
  for (const Part& p : parts_) {
    if (p.kind != Kind::kLiteral) return false;
  }
  return true;
}

std::string TopicTemplate::render(const Metric& metric) const {
  std::string rendered;
  for (const Part& p : parts_) {
    switch (p.kind) {
      case Kind::kLiteral:
        rendered += p.text;
        break;
      case Kind::kHostname:
        rendered += metric.tag("host").value_or("");
        break;
      case Kind::kName:
        rendered += metric.name();
        break;
      case Kind::kTag:
        rendered += metric.tag(p.text).value_or("");
        break;
    }
  }
  std::string topic = rendered.starts_with('/') ? "/" : "";
  append_segments(topic, rendered);
  if (topic.empty() || topic == "/") return metric.name();
  return topic;
}

std::string publish_topic_problem(std::string_view topic) {
  if (topic.empty()) return "the topic is empty";
  if (topic.find_first_of("+#") != std::string_view::npos) {
    return "the topic \"" + std::string(topic) + "\" contains an MQTT wildcard (+ or #)";
  }
  if (topic.find('\0') != std::string_view::npos) return "the topic contains a NUL character";
  if (topic.size() > 65535) return "the topic is longer than MQTT's 65535 bytes";
  return "";
}

}  // namespace sluice::outputs::mqtt
