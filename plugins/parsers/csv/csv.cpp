// The csv data format: comma-separated (or other) values with RFC 4180 quoting, header rows that
// name the columns, typed and tag columns, and a timestamp column. The header is remembered
// between messages, so a stream (tail) sends it once and then any run of lines.
#include <algorithm>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/time_layout.hpp"
#include "parsers/parse_text.hpp"
#include "plugin/registry.hpp"

namespace sluice::parsers::csv {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"csv_header_row_count", OptionType::kInt, "0",
     "Rows at the start that name the columns (several rows' names are concatenated)"},
    {"csv_column_names", OptionType::kStringList, "",
     "Column names, instead of the header's (columns without a name are column1, column2, ...)"},
    {"csv_column_types", OptionType::kStringList, "",
     "Types of the columns in order: int, float, bool or string (default: guessed per value)"},
    {"csv_tag_columns", OptionType::kStringList, "", "Columns that are tags"},
    {"csv_measurement_column", OptionType::kString, "",
     "Column holding the measurement name (default: metric_name)"},
    {"csv_timestamp_column", OptionType::kString, "", "Column holding the time"},
    {"csv_timestamp_format", OptionType::kString, "",
     "Format of the time column: unix, unix_ms, unix_us, unix_ns or a Go layout"},
    {"csv_timezone", OptionType::kString, "UTC",
     "Zone of times without an offset: UTC, Local or an IANA name"},
    {"csv_delimiter", OptionType::kString, "\",\"", "The character between columns (\\t for tabs)"},
    {"csv_comment", OptionType::kString, "", "Lines starting with this character are skipped"},
    {"csv_trim_space", OptionType::kBool, "false", "Remove spaces around values"},
    {"csv_skip_rows", OptionType::kInt, "0", "Rows skipped at the start, before the header"},
    {"csv_skip_columns", OptionType::kInt, "0", "Columns skipped at the left of each row"},
    {"csv_skip_values", OptionType::kStringList, "",
     "Values that mean \"no value\": the column is left out of that row's metric"},
    {"csv_reset_mode", OptionType::kString, "none",
     "none: skip rows and header only at the start of the stream; always: in every message"},
};

enum class ColumnType { kAuto, kInt, kFloat, kBool, kString };
enum class Role { kField, kTag, kMeasurement, kTimestamp };

struct Config {
  int64_t header_rows = 0;
  std::vector<std::string> column_names;
  std::vector<ColumnType> column_types;
  std::vector<std::string> tag_columns;
  std::string measurement_column;
  std::string timestamp_column;
  std::optional<core::TimeLayout> timestamp_layout;
  core::TimeZone zone;
  char delimiter = ',';
  char comment = 0;
  bool trim_space = false;
  int64_t skip_rows = 0;
  int64_t skip_columns = 0;
  std::vector<std::string> skip_values;
  bool reset_always = false;
  std::string metric_name;
};

struct CsvField {
  std::string_view text;
  size_t column = 0;  // 1-based byte column where the field starts
};

class CsvParser : public Parser {
 public:
  explicit CsvParser(Config config) : config_(std::move(config)) { reset(); }

  void parse(std::string_view data, int64_t now, Batch& out,
             std::vector<ParseError>& errors) override {
    if (config_.reset_always) reset();
    pos_ = 0;
    line_ = 1;
    line_start_ = 0;
    while (pos_ < data.size()) {
      char c = data[pos_];
      if (c == '\n' || (c == '\r' && pos_ + 1 < data.size() && data[pos_ + 1] == '\n')) {
        next_line(data);  // empty lines are not records
        continue;
      }
      if (config_.comment != 0 && c == config_.comment) {
        next_line(data);
        continue;
      }
      size_t record_line = line_;
      fields_.clear();
      owned_.clear();
      if (auto error = read_record(data)) {
        errors.push_back(std::move(*error));
        continue;
      }
      handle_record(record_line, now, out, errors);
    }
  }

  bool splits_on_lines() const override { return true; }

 private:
  void reset() {
    skip_rows_left_ = config_.skip_rows;
    header_rows_left_ = config_.header_rows;
    names_ = config_.column_names;
    roles_.clear();
  }

  // Moves past the end of the current line.
  void next_line(std::string_view data) {
    size_t nl = data.find('\n', pos_);
    pos_ = nl == std::string_view::npos ? data.size() : nl + 1;
    ++line_;
    line_start_ = pos_;
  }

  ParseError error_at(size_t offset, std::string reason) const {
    return {line_, offset - line_start_ + 1, std::move(reason)};
  }

  bool is_blank(char c) const { return (c == ' ' || c == '\t') && c != config_.delimiter; }

  // Reads one record (which may span lines inside quotes) into fields_; on an error, skips to
  // the end of the line where it was found.
  std::optional<ParseError> read_record(std::string_view data) {
    const char delim = config_.delimiter;
    while (true) {
      if (config_.trim_space) {
        while (pos_ < data.size() && is_blank(data[pos_])) ++pos_;
      }
      size_t field_start = pos_;
      size_t column = pos_ - line_start_ + 1;
      if (pos_ < data.size() && data[pos_] == '"') {
        ++pos_;
        std::string* buffer = nullptr;
        size_t segment = pos_;
        std::string_view text;
        while (true) {
          size_t quote = data.find('"', pos_);
          if (quote == std::string_view::npos) {
            ParseError e = error_at(field_start, "quoted field is not closed");
            pos_ = data.size();
            return e;
          }
          for (size_t i = pos_; i < quote; ++i) {  // lines inside the quotes
            if (data[i] == '\n') {
              ++line_;
              line_start_ = i + 1;
            }
          }
          if (quote + 1 < data.size() && data[quote + 1] == '"') {  // "" is one quote
            if (buffer == nullptr) buffer = &owned_.emplace_back();
            buffer->append(data.substr(segment, quote + 1 - segment));
            pos_ = quote + 2;
            segment = pos_;
            continue;
          }
          if (buffer != nullptr) {
            buffer->append(data.substr(segment, quote - segment));
            text = *buffer;
          } else {
            text = data.substr(segment, quote - segment);
          }
          pos_ = quote + 1;
          break;
        }
        if (config_.trim_space) {
          while (pos_ < data.size() && is_blank(data[pos_])) ++pos_;
        }
        fields_.push_back({text, column});
        if (pos_ < data.size() && data[pos_] == '\r' && pos_ + 1 < data.size() &&
            data[pos_ + 1] == '\n') {
          ++pos_;
        }
        if (pos_ >= data.size() || data[pos_] == '\n') {
          if (pos_ < data.size()) next_line(data);
          return std::nullopt;
        }
        if (data[pos_] == delim) {
          ++pos_;
          continue;
        }
        ParseError e = error_at(pos_, std::string("unexpected \"") + data[pos_] +
                                          "\" after a closing quote; expected the delimiter");
        next_line(data);
        return e;
      }
      // An unquoted field runs to the delimiter or the end of the line.
      size_t end = pos_;
      while (end < data.size() && data[end] != delim && data[end] != '\n') ++end;
      std::string_view text = data.substr(pos_, end - pos_);
      if (end < data.size() && data[end] == '\n' && !text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
      }
      if (size_t q = text.find('"'); q != std::string_view::npos) {
        ParseError e = error_at(pos_ + q, "bare quote in an unquoted field");
        next_line(data);
        return e;
      }
      if (config_.trim_space) {
        while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
      }
      fields_.push_back({text, column});
      if (end >= data.size()) {
        pos_ = data.size();
        return std::nullopt;
      }
      pos_ = end;
      if (data[end] == '\n') {
        next_line(data);
        return std::nullopt;
      }
      ++pos_;  // past the delimiter
    }
  }

  void handle_record(size_t line, int64_t now, Batch& out, std::vector<ParseError>& errors) {
    if (skip_rows_left_ > 0) {
      --skip_rows_left_;
      return;
    }
    std::span<const CsvField> fields(fields_);
    size_t skip = static_cast<size_t>(config_.skip_columns);
    fields = fields.subspan(std::min(skip, fields.size()));
    if (header_rows_left_ > 0) {
      --header_rows_left_;
      if (config_.column_names.empty()) {
        if (names_.size() < fields.size()) names_.resize(fields.size());
        for (size_t i = 0; i < fields.size(); ++i) names_[i] += fields[i].text;
        roles_.clear();
      }
      return;
    }
    if (!names_.empty() && fields.size() != names_.size()) {
      errors.push_back({line, fields.empty() ? 1 : fields.front().column,
                        "the row has " + std::to_string(fields.size()) + " columns, the header " +
                            std::to_string(names_.size())});
      return;
    }
    ensure_roles(fields.size());

    Metric metric(config_.metric_name, now);
    metric.reserve(0, fields.size(), fields.size() * 16);
    for (size_t i = 0; i < fields.size(); ++i) {
      std::string_view value = fields[i].text;
      const Column& col = roles_[i];
      if (std::find(config_.skip_values.begin(), config_.skip_values.end(), value) !=
          config_.skip_values.end()) {
        continue;
      }
      switch (col.role) {
        case Role::kTag:
          metric.set_tag(col.name, value);
          break;
        case Role::kMeasurement:
          if (!value.empty()) metric.set_name(std::string(value));
          break;
        case Role::kTimestamp: {
          std::optional<int64_t> t;
          if (config_.timestamp_layout) t = config_.timestamp_layout->parse(value, config_.zone);
          if (!t) {
            errors.push_back({line, fields[i].column,
                              "column " + col.name + ": \"" + excerpt(value) +
                                  "\" is not a time in the format csv_timestamp_format"});
            return;
          }
          metric.set_time(*t);
          break;
        }
        case Role::kField: {
          std::optional<FieldValue> v = convert(value, col.type);
          if (!v) {
            errors.push_back({line, fields[i].column,
                              "column " + col.name + ": \"" + excerpt(value) + "\" is not " +
                                  type_name(col.type)});
            return;
          }
          metric.set_field(col.name, std::move(*v));
          break;
        }
      }
    }
    if (metric.fields().empty()) {
      errors.push_back({line, 1, "the row has no field (only tags, time or skipped values)"});
      return;
    }
    out.push_back(std::move(metric));
  }

  static std::optional<FieldValue> convert(std::string_view v, ColumnType type) {
    switch (type) {
      case ColumnType::kInt:
        if (auto i = parse_int(v)) return FieldValue(*i);
        return std::nullopt;
      case ColumnType::kFloat:
        if (auto f = parse_float(v)) return FieldValue(*f);
        return std::nullopt;
      case ColumnType::kBool:
        if (auto b = parse_bool(v)) return FieldValue(*b);
        return std::nullopt;
      case ColumnType::kString:
        return FieldValue(std::string(v));
      case ColumnType::kAuto:
        if (auto i = parse_int(v)) return FieldValue(*i);
        if (auto f = parse_float(v)) return FieldValue(*f);
        if (auto b = parse_bool(v)) return FieldValue(*b);
        return FieldValue(std::string(v));
    }
    return std::nullopt;
  }

  static const char* type_name(ColumnType t) {
    switch (t) {
      case ColumnType::kInt:
        return "an integer";
      case ColumnType::kFloat:
        return "a float";
      case ColumnType::kBool:
        return "a boolean";
      default:
        return "a value";
    }
  }

  struct Column {
    std::string name;
    Role role = Role::kField;
    ColumnType type = ColumnType::kAuto;
  };

  // The role of each column, computed once per header (columns without a name: columnN).
  void ensure_roles(size_t count) {
    for (size_t i = roles_.size(); i < count; ++i) {
      Column c;
      c.name =
          i < names_.size() && !names_[i].empty() ? names_[i] : "column" + std::to_string(i + 1);
      if (i < config_.column_types.size()) c.type = config_.column_types[i];
      if (c.name == config_.timestamp_column) {
        c.role = Role::kTimestamp;
      } else if (c.name == config_.measurement_column) {
        c.role = Role::kMeasurement;
      } else if (std::find(config_.tag_columns.begin(), config_.tag_columns.end(), c.name) !=
                 config_.tag_columns.end()) {
        c.role = Role::kTag;
      }
      roles_.push_back(std::move(c));
    }
  }

  Config config_;
  int64_t skip_rows_left_ = 0;
  int64_t header_rows_left_ = 0;
  std::vector<std::string> names_;
  std::vector<Column> roles_;
  // The current record: fields point into the message or, for quoted fields with "", into owned_.
  std::vector<CsvField> fields_;
  std::deque<std::string> owned_;
  size_t pos_ = 0;
  size_t line_ = 1;
  size_t line_start_ = 0;
};

char single_char(const Options& o, const char* name, bool allow_empty) {
  const std::string& s = o.get_string(name);
  if (s.empty() && allow_empty) return 0;
  if (s == "\\t") return '\t';
  if (s.size() != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r') {
    throw OptionError(name, "must be a single character other than a quote or a line break");
  }
  return s[0];
}

std::unique_ptr<Parser> create(const PluginContext& ctx) {
  const Options& o = ctx.options;
  Config c;
  c.header_rows = o.get_int("csv_header_row_count");
  if (c.header_rows < 0) throw OptionError("csv_header_row_count", "cannot be negative");
  c.skip_rows = o.get_int("csv_skip_rows");
  if (c.skip_rows < 0) throw OptionError("csv_skip_rows", "cannot be negative");
  c.skip_columns = o.get_int("csv_skip_columns");
  if (c.skip_columns < 0) throw OptionError("csv_skip_columns", "cannot be negative");
  c.column_names = o.get_strings("csv_column_names");
  for (const std::string& t : o.get_strings("csv_column_types")) {
    if (t == "int") {
      c.column_types.push_back(ColumnType::kInt);
    } else if (t == "float") {
      c.column_types.push_back(ColumnType::kFloat);
    } else if (t == "bool") {
      c.column_types.push_back(ColumnType::kBool);
    } else if (t == "string") {
      c.column_types.push_back(ColumnType::kString);
    } else {
      throw OptionError("csv_column_types", "\"" + t + "\" is not int, float, bool or string");
    }
  }
  c.tag_columns = o.get_strings("csv_tag_columns");
  c.measurement_column = o.get_string("csv_measurement_column");
  c.timestamp_column = o.get_string("csv_timestamp_column");
  const std::string& format = o.get_string("csv_timestamp_format");
  if (!c.timestamp_column.empty()) {
    if (format.empty()) {
      throw OptionError("csv_timestamp_format", "is needed with csv_timestamp_column");
    }
    std::string error;
    c.timestamp_layout = core::TimeLayout::compile(format, &error);
    if (!c.timestamp_layout) throw OptionError("csv_timestamp_format", error);
  }
  std::string error;
  auto zone = core::TimeZone::load(o.get_string("csv_timezone"), &error);
  if (!zone) throw OptionError("csv_timezone", error);
  c.zone = *zone;
  c.delimiter = single_char(o, "csv_delimiter", false);
  c.comment = single_char(o, "csv_comment", true);
  c.trim_space = o.get_bool("csv_trim_space");
  c.skip_values = o.get_strings("csv_skip_values");
  const std::string& reset = o.get_string("csv_reset_mode");
  if (reset == "always") {
    c.reset_always = true;
  } else if (reset != "none") {
    throw OptionError("csv_reset_mode", "\"" + reset + "\" is not none or always");
  }
  if (c.header_rows == 0 && c.column_names.empty() && !c.timestamp_column.empty() &&
      c.timestamp_column.rfind("column", 0) != 0) {
    throw OptionError("csv_timestamp_column",
                      "names a column, but there is no header row and no csv_column_names");
  }
  c.metric_name = metric_name_option(o, "csv");
  return std::make_unique<CsvParser>(std::move(c));
}

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kParser;
  info.name = "csv";
  info.description = "Comma-separated values with a header";
  info.options = kOptions;
  info.create_parser = create;
  registry.add(std::move(info));
}

}  // namespace sluice::parsers::csv
