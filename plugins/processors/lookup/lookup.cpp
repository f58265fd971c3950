// lookup: adds tags from a table loaded from JSON or CSV files, found by a key made from each
// metric (a tag's value, or a template of the name, tags and fields), as Telegraf's lookup
// processor.
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plugin/registry.hpp"
#include "processors/lookup/key_template.hpp"

namespace sluice::processors::lookup {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"files", OptionType::kStringList, "", "Files holding the lookup table", true},
    {"format", OptionType::kString, "json",
     "Format of the files: json, csv_key_values or csv_key_name_value"},
    {"key", OptionType::kString, "",
     "The key of a metric: a tag name, or a template such as '{{.Name}}-{{.Tag \"host\"}}'", true},
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Table = std::unordered_map<std::string, std::vector<Tag>, StringHash, std::equal_to<>>;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw OptionError("files", "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void put(Table& table, const std::string& key, std::string tag, std::string value) {
  std::vector<Tag>& tags = table[key];
  for (Tag& t : tags) {
    if (t.key == tag) {
      t.value = std::move(value);
      return;
    }
  }
  tags.push_back({std::move(tag), std::move(value)});
}

void load_json(const std::string& path, const std::string& text, Table& table) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw OptionError("files", path + ": " + e.what());
  }
  if (!doc.is_object()) throw OptionError("files", path + ": expected an object of objects");
  for (const auto& [key, tags] : doc.items()) {
    if (!tags.is_object()) {
      throw OptionError("files", path + ": the entry \"" + key + "\" is not an object of tags");
    }
    table[key];  // a key with no tags still exists
    for (const auto& [tag, value] : tags.items()) {
      if (!value.is_string()) {
        throw OptionError("files",
                          path + ": the tag \"" + tag + "\" of \"" + key + "\" is not a string");
      }
      put(table, key, tag, value.get<std::string>());
    }
  }
}

// Splits CSV text into rows of cells (RFC 4180 quoting); skips blank lines and '#' comments.
std::vector<std::vector<std::string>> parse_csv(const std::string& path, std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  size_t i = 0, line = 1;
  while (i < text.size()) {
    if (text[i] == '\n' || text[i] == '\r' || text[i] == '#') {
      if (text[i] == '#') {
        while (i < text.size() && text[i] != '\n') ++i;
      }
      if (i < text.size() && text[i] == '\n') ++line;
      ++i;
      continue;
    }
    std::vector<std::string> row;
    std::string cell;
    bool end_of_row = false;
    while (!end_of_row) {
      cell.clear();
      if (i < text.size() && text[i] == '"') {
        ++i;
        while (true) {
          if (i >= text.size())
            throw OptionError("files", path + ":" + std::to_string(line) + ": unterminated quote");
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              cell += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          cell += text[i++];
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          cell += text[i++];
        }
      }
      row.push_back(cell);
      if (i < text.size() && text[i] == ',') {
        ++i;
      } else {
        while (i < text.size() && text[i] == '\r') ++i;
        if (i < text.size() && text[i] == '\n') {
          ++i;
          ++line;
        }
        end_of_row = true;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void load_csv_key_values(const std::string& path, const std::string& text, Table& table) {
  auto rows = parse_csv(path, text);
  if (rows.empty()) return;
  const std::vector<std::string>& header = rows[0];
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.size() > header.size()) {
      throw OptionError(
          "files", path + ": row " + std::to_string(r + 1) + " has more cells than the header");
    }
    table[row[0]];
    for (size_t c = 1; c < row.size(); ++c) {
      if (!row[c].empty()) put(table, row[0], header[c], row[c]);
    }
  }
}

void load_csv_key_name_value(const std::string& path, const std::string& text, Table& table) {
  auto rows = parse_csv(path, text);
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.size() % 2 != 1) {
      throw OptionError("files", path + ": row " + std::to_string(r + 1) +
                                     " must be a key followed by name,value pairs");
    }
    table[row[0]];
    for (size_t c = 1; c + 1 < row.size(); c += 2) put(table, row[0], row[c], row[c + 1]);
  }
}

class Lookup final : public Processor {
 public:
  explicit Lookup(const Options& options) : key_(KeyTemplate::parse(options.get_string("key"))) {
    const std::string& format = options.get_string("format");
    if (format != "json" && format != "csv_key_values" && format != "csv_key_name_value") {
      throw OptionError(
          "format",
          "format must be json, csv_key_values or csv_key_name_value, not \"" + format + "\"");
    }
    if (options.get_strings("files").empty()) throw OptionError("files", "give at least one file");
    for (const std::string& path : options.get_strings("files")) {
      std::string text = read_file(path);
      if (format == "json") {
        load_json(path, text, table_);
      } else if (format == "csv_key_values") {
        load_csv_key_values(path, text, table_);
      } else {
        load_csv_key_name_value(path, text, table_);
      }
    }
  }

  Batch process(Batch batch) override {
    for (Metric& m : batch) {
      if (!key_.render(m, key_text_)) continue;
      auto it = table_.find(std::string_view(key_text_));
      if (it == table_.end()) continue;
      for (const Tag& t : it->second) m.set_tag(t.key, t.value);
    }
    return batch;
  }

 private:
  KeyTemplate key_;
  Table table_;
  std::string key_text_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "lookup";
  info.description = "Add tags from a table in JSON or CSV files";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<Lookup>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::lookup
