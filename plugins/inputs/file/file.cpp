// file: reads whole files each interval and parses them with the data format, as Telegraf's
// file input. For files that grow line by line, tail is the input to use.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/path_glob.hpp"
#include "core/tagging_accumulator.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/parse_into.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::file {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"files", OptionType::kStringList, "",
     "Files to read, with globs: * and ? within a name, ** for any number of directories", true},
    {"file_tag", OptionType::kString, "",
     "Tag each metric with the file's base name under this key (empty: no tag)"},
};

// Reads the whole file; false with the reason in `error`.
bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = "is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    error = "read error";
    return false;
  }
  out = std::move(ss).str();
  return true;
}

class File final : public Input {
 public:
  explicit File(const PluginContext& ctx)
      : parser_(plugin::make_parser(ctx)),
        format_(ctx.options.get_string("data_format")),
        patterns_(ctx.options.get_strings("files")),
        file_tag_(ctx.options.get_string("file_tag")) {
    if (patterns_.empty()) throw OptionError("files", "give at least one file or pattern");
    for (const std::string& p : patterns_) {
      if (p.empty()) throw OptionError("files", "an empty file name");
    }
  }

  void gather(Accumulator& acc) override {
    for (const std::string& pattern : patterns_) {
      std::vector<std::string> paths = core::expand_path_glob(pattern);
      if (paths.empty()) {
        acc.add_error("no file matches \"" + pattern + "\"");
        continue;
      }
      for (const std::string& path : paths) read_one(path, acc);
    }
  }

 private:
  void read_one(const std::string& path, Accumulator& acc) {
    std::string data;
    std::string error;
    if (!read_file(path, data, error)) {
      acc.add_error("cannot read \"" + path + "\": " + error);
      return;
    }
    // An empty file_tag adds nothing.
    core::TaggingAccumulator tagging(acc, file_tag_,
                                     std::filesystem::path(path).filename().string());
    plugin::parse_into(*parser_, format_, data, tagging, path);
  }

  std::unique_ptr<Parser> parser_;
  std::string format_;
  std::vector<std::string> patterns_;
  std::string file_tag_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "file";
  info.description = "Read whole files each interval and parse them with the data format";
  info.options = kOptions;
  info.uses_parser = true;
  info.create_input = [](const PluginContext& ctx) { return std::make_unique<File>(ctx); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::file
