#include "parsers/collectd/types_db.hpp"

#include <fstream>
#include <sstream>

namespace sluice::parsers::collectd {

bool TypesDb::load_text(std::string_view text, std::string* error) {
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    // Words separated by blanks and commas: the type name, then dsname:TYPE:min:max each.
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() &&
             (line[i] == ' ' || line[i] == '\t' || line[i] == ',' || line[i] == '\r')) {
        ++i;
      }
      size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != ',' &&
             line[i] != '\r') {
        ++i;
      }
      if (i > start) words.push_back(line.substr(start, i - start));
    }
    if (words.empty()) continue;
    if (words.size() < 2) {
      *error = "line " + std::to_string(line_no) + ": type " + std::string(words[0]) +
               " has no data source";
      return false;
    }
    std::vector<std::string> names;
    for (size_t w = 1; w < words.size(); ++w) {
      size_t colon = words[w].find(':');
      if (colon == 0 || colon == std::string_view::npos) {
        *error = "line " + std::to_string(line_no) + ": \"" + std::string(words[w]) +
                 "\" is not name:TYPE:min:max";
        return false;
      }
      names.emplace_back(words[w].substr(0, colon));
    }
    types_[std::string(words[0])] = std::move(names);
  }
  return true;
}

bool TypesDb::load_file(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (!load_text(text.str(), error)) {
    *error = path + ": " + *error;
    return false;
  }
  return true;
}

const std::vector<std::string>* TypesDb::names(std::string_view type) const {
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : &it->second;
}

}  // namespace sluice::parsers::collectd
