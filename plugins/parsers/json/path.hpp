// A small subset of GJSON paths to select values in a JSON document: "a.b" (keys), "a.0.b" (an
// array index, or a key "0" of an object), "a.#" (every element of an array), "a.#.b" (b of
// every element). "\." is a dot inside a key; "" and "@this" are the document itself.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::parsers::json {

class JsonPath {
 public:
  static std::optional<JsonPath> compile(std::string_view text, std::string* error);

  // Appends every value the path selects (none when a key or index is missing). Sets
  // `*empty_array`, if given, when a # met an empty array (nothing selected, yet nothing
  // missing).
  void select(const nlohmann::json& doc, std::vector<const nlohmann::json*>& out,
              bool* empty_array = nullptr) const;
  // Whether the path can select several values (it has a #).
  bool multi() const { return multi_; }
  // The name a value selected by this path gets by default: its last key.
  const std::string& default_name() const { return default_name_; }
  const std::string& text() const { return text_; }

 private:
  struct Segment {
    bool every = false;           // #
    std::string key;              // a key, or the digits of an index
    std::optional<size_t> index;  // when the key is all digits
  };
  void select_from(const nlohmann::json& node, size_t i, std::vector<const nlohmann::json*>& out,
                   bool* empty_array) const;

  std::string text_;
  std::vector<Segment> segments_;
  bool multi_ = false;
  std::string default_name_;
};

}  // namespace sluice::parsers::json
