#include "parsers/json/path.hpp"

namespace sluice::parsers::json {

std::optional<JsonPath> JsonPath::compile(std::string_view text, std::string* error) {
  JsonPath path;
  path.text_ = std::string(text);
  if (text.empty() || text == "@this") return path;
  std::string current;
  auto finish = [&]() -> bool {
    if (current.empty()) {
      *error = "path \"" + std::string(text) + "\" has an empty segment";
      return false;
    }
    Segment s;
    if (current == "#") {
      s.every = true;
      path.multi_ = true;
    } else {
      bool digits = current.size() <= 18;
      for (char c : current) digits = digits && c >= '0' && c <= '9';
      if (digits) s.index = std::stoull(current);
      path.default_name_ = current;
      s.key = std::move(current);
    }
    path.segments_.push_back(std::move(s));
    current.clear();
    return true;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      current += text[++i];
    } else if (c == '.') {
      if (!finish()) return std::nullopt;
    } else {
      current += c;
    }
  }
  if (!finish()) return std::nullopt;
  // The name of a value is its last key that is not an index ("cpus.0" is a "cpus").
  for (auto it = path.segments_.rbegin(); it != path.segments_.rend(); ++it) {
    if (!it->every && !it->index) {
      path.default_name_ = it->key;
      break;
    }
  }
  return path;
}

void JsonPath::select(const nlohmann::json& doc, std::vector<const nlohmann::json*>& out,
                      bool* empty_array) const {
  select_from(doc, 0, out, empty_array);
}

void JsonPath::select_from(const nlohmann::json& node, size_t i,
                           std::vector<const nlohmann::json*>& out, bool* empty_array) const {
  if (i == segments_.size()) {
    out.push_back(&node);
    return;
  }
  const Segment& s = segments_[i];
  if (s.every) {
    if (!node.is_array()) return;
    if (node.empty() && empty_array != nullptr) *empty_array = true;
    for (const nlohmann::json& element : node) select_from(element, i + 1, out, empty_array);
    return;
  }
  if (node.is_object()) {
    auto it = node.find(s.key);
    if (it != node.end()) select_from(*it, i + 1, out, empty_array);
  } else if (node.is_array() && s.index && *s.index < node.size()) {
    select_from(node[*s.index], i + 1, out, empty_array);
  }
}

}  // namespace sluice::parsers::json
