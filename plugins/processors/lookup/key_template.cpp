#include "processors/lookup/key_template.hpp"

#include "processors/converter/conversions.hpp"
#include "sluice/options.hpp"

namespace sluice::processors::lookup {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// The quoted argument of an action such as .Tag "host" (Go templates also take `backquotes`).
std::string argument(std::string_view action, std::string_view rest) {
  rest = trim(rest);
  if (rest.size() < 2 || (rest.front() != '"' && rest.front() != '`') ||
      rest.back() != rest.front()) {
    throw OptionError("key", "{{" + std::string(action) + "}} needs a quoted name, e.g. {{" +
                                 std::string(action.substr(0, action.find(' '))) + " \"host\"}}");
  }
  return std::string(rest.substr(1, rest.size() - 2));
}

}  // namespace

KeyTemplate KeyTemplate::parse(std::string_view text) {
  KeyTemplate t;
  if (text.empty()) throw OptionError("key", "key is required");
  if (text.find("{{") == std::string_view::npos) {
    t.pieces_.push_back({Part::kTag, std::string(text)});
    return t;
  }
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.pieces_.push_back({Part::kText, std::string(text.substr(pos))});
      break;
    }
    if (open > pos) t.pieces_.push_back({Part::kText, std::string(text.substr(pos, open - pos))});
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) throw OptionError("key", "a {{ without its }}");
    std::string_view action = trim(text.substr(open + 2, close - open - 2));
    if (action == ".Name") {
      t.pieces_.push_back({Part::kName, ""});
    } else if (action.substr(0, 5) == ".Tag " || action.substr(0, 5) == ".Tag\t") {
      t.pieces_.push_back({Part::kTag, argument(action, action.substr(5))});
    } else if (action.substr(0, 7) == ".Field ") {
      t.pieces_.push_back({Part::kField, argument(action, action.substr(7))});
    } else {
      throw OptionError("key", "unknown action {{" + std::string(action) +
                                   "}} (expected .Name, .Tag \"name\" or .Field \"name\")");
    }
    pos = close + 2;
  }
  return t;
}

bool KeyTemplate::render(const Metric& m, std::string& out) const {
  out.clear();
  for (const Piece& p : pieces_) {
    switch (p.part) {
      case Part::kText:
        out += p.text;
        break;
      case Part::kName:
        out += m.name();
        break;
      case Part::kTag: {
        auto v = m.tag(p.text);
        if (!v) return false;
        out += *v;
        break;
      }
      case Part::kField: {
        const FieldValue* v = m.field(p.text);
        if (v == nullptr) return false;
        if (const std::string* s = std::get_if<std::string>(v)) {
          out += *s;
        } else {
          out += converter::to_text(*v);
        }
        break;
      }
    }
  }
  return true;
}

}  // namespace sluice::processors::lookup
