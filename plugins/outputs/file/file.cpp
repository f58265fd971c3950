// Writes metrics to stdout, stderr or files, in any data format, rotating files by age or size.
#include <chrono>
#include <memory>
#include <vector>

#include "plugin/registry.hpp"
#include "plugin/format_factory.hpp"
#include "rotating_file.hpp"

namespace sluice::outputs::file {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"files", OptionType::kStringList, "[stdout]", "Where to write: stdout, stderr or file paths"},
    {"use_batch_format", OptionType::kBool, "false",
     "Write each batch as one unit (for json: {\"metrics\":[...]})"},
    {"rotation_interval", OptionType::kDuration, "0s", "Rotate files this old (0s: never)"},
    {"rotation_max_size", OptionType::kSize, "0", "Rotate files before they pass this size (0: never)"},
    {"rotation_max_archives", OptionType::kInt, "5", "Rotated files to keep (-1: all)"},
};

int64_t wall_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class FileOutput final : public Output {
 public:
  explicit FileOutput(const PluginContext& ctx)
      : serializer_(plugin::make_serializer(ctx)),
        batch_format_(ctx.options.get_bool("use_batch_format")) {
    RotationPolicy policy;
    policy.interval_ns = ctx.options.get_duration("rotation_interval").count();
    policy.max_size = ctx.options.get_size("rotation_max_size");
    policy.max_archives = ctx.options.get_int("rotation_max_archives");
    const auto& paths = ctx.options.get_strings("files");
    if (paths.empty()) throw OptionError("files", "needs at least one of stdout, stderr or a path");
    for (const std::string& path : paths) files_.push_back(std::make_unique<RotatingFile>(path, policy));
  }

  WriteResult connect() override {
    for (auto& f : files_) {
      if (std::string error = f->open(wall_now()); !error.empty()) return WriteResult::retry(error);
    }
    return WriteResult::ok();
  }

  WriteResult write(std::span<const Metric> batch) override {
    text_.clear();
    if (batch_format_) {
      serializer_->serialize_batch(batch, text_);
    } else {
      for (const Metric& m : batch) serializer_->serialize(m, text_);
    }
    if (text_.empty()) return WriteResult::ok();
    int64_t now = wall_now();
    for (auto& f : files_) {
      if (std::string error = f->write(text_, now); !error.empty()) return WriteResult::retry(error);
    }
    return WriteResult::ok();
  }

  void close() override {
    for (auto& f : files_) f->close();
  }

 private:
  std::unique_ptr<Serializer> serializer_;
  bool batch_format_;
  std::vector<std::unique_ptr<RotatingFile>> files_;
  std::string text_;  // reused between writes
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kOutput;
  info.name = "file";
  info.description = "Write metrics to stdout, stderr or files";
  info.options = kOptions;
  info.uses_serializer = true;
  info.create_output = [](const PluginContext& ctx) { return std::make_unique<FileOutput>(ctx); };
  registry.add(std::move(info));
}

}  // namespace sluice::outputs::file
