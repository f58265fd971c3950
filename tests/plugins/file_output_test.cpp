#include <doctest/doctest.h>

#include <filesystem>

#include "config/config.hpp"
#include "core/log.hpp"
#include "pipeline/plugin_factory.hpp"
#include "support/net.hpp"
#include "support/process.hpp"

using namespace sluice;
namespace fs = std::filesystem;

namespace {

// The file output as the config loader builds it from `options` (YAML flow map body).
std::unique_ptr<Output> file_output(const std::string& options, core::PluginLogger& log) {
  auto config = config::load_text("outputs:\n  - file: {" + options + "}\n", "test.yaml");
  return pipeline::create_plugin(config.outputs.at(0), config.outputs.at(0).info->create_output,
                                 log);
}

Batch metrics(int64_t first, int64_t count) {
  Batch b;
  for (int64_t i = first; i < first + count; ++i) {
    Metric m("disk", 1'700'000'000'000'000'000 + i);
    m.set_tag("path", "/var");
    m.set_field("used", i);
    m.set_field("ok", true);
    b.push_back(std::move(m));
  }
  return b;
}

}  // namespace

TEST_CASE("file output writes line protocol, appending") {
  testing::TempDir dir("file-output");
  core::PluginLogger log("outputs.file");
  auto out = file_output("files: [" + (dir / "m.out") + "]", log);
  REQUIRE(out->connect().status == WriteResult::Status::kOk);
  Batch one = metrics(0, 2);
  CHECK(out->write(one).status == WriteResult::Status::kOk);
  Batch two = metrics(2, 1);
  CHECK(out->write(two).status == WriteResult::Status::kOk);
  out->close();
  CHECK(testing::read_text(dir / "m.out") ==
        "disk,path=/var used=0i,ok=true 1700000000000000000\n"
        "disk,path=/var used=1i,ok=true 1700000000000000001\n"
        "disk,path=/var used=2i,ok=true 1700000000000000002\n");
}

TEST_CASE("file output writes json, one object per metric or one per batch") {
  testing::TempDir dir("file-json");
  core::PluginLogger log("outputs.file");
  auto lines = file_output("files: [" + (dir / "lines.json") + "], data_format: json", log);
  auto batch = file_output("files: [" + (dir / "batch.json") +
                               "], data_format: json, use_batch_format: true, "
                               "json_timestamp_units: 1ns",
                           log);
  Batch b = metrics(0, 2);
  REQUIRE(lines->connect().status == WriteResult::Status::kOk);
  REQUIRE(batch->connect().status == WriteResult::Status::kOk);
  lines->write(b);
  batch->write(b);
  lines->close();
  batch->close();
  CHECK(testing::read_text(dir / "lines.json") ==
        "{\"fields\":{\"used\":0,\"ok\":true},\"name\":\"disk\",\"tags\":{\"path\":\"/var\"},"
        "\"timestamp\":1700000000}\n"
        "{\"fields\":{\"used\":1,\"ok\":true},\"name\":\"disk\",\"tags\":{\"path\":\"/var\"},"
        "\"timestamp\":1700000000}\n");
  CHECK(testing::read_text(dir / "batch.json") ==
        "{\"metrics\":[{\"fields\":{\"used\":0,\"ok\":true},\"name\":\"disk\",\"tags\":{\"path\":"
        "\"/var\"},\"timestamp\":1700000000000000000},{\"fields\":{\"used\":1,\"ok\":true},"
        "\"name\":\"disk\",\"tags\":{\"path\":\"/var\"},\"timestamp\":1700000000000000001}]}\n");
}

TEST_CASE("file output rotates by size and keeps the newest archives") {
  testing::TempDir dir("file-rotate");
  core::PluginLogger log("outputs.file");
  // Each write is one 51-byte line; at most 120 bytes per file: two lines, then a new file.
  auto out = file_output("files: [" + (dir / "m.out") +
                             "], rotation_max_size: 120B, rotation_max_archives: 2",
                         log);
  REQUIRE(out->connect().status == WriteResult::Status::kOk);
  for (int64_t i = 0; i < 9; ++i) {
    Batch b = metrics(i, 1);
    REQUIRE(out->write(b).status == WriteResult::Status::kOk);
  }
  out->close();
  std::vector<std::string> archives;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    std::string name = entry.path().filename().string();
    if (name != "m.out") archives.push_back(name);
  }
  CHECK(archives.size() == 2);  // four files were rotated away; the oldest two are gone
  for (const std::string& name : archives) {
    CHECK(name.starts_with("m."));
    CHECK(name.ends_with("Z.out"));
  }
  CHECK(testing::read_text(dir / "m.out") == "disk,path=/var used=8i,ok=true 1700000000000000008\n");
}

TEST_CASE("a file that cannot be opened is a retry naming it") {
  core::PluginLogger log("outputs.file");
  auto out = file_output("files: [/nonexistent-dir/m.out]", log);
  WriteResult r = out->connect();
  CHECK(r.status == WriteResult::Status::kRetry);
  CHECK(r.error == "cannot open /nonexistent-dir/m.out: No such file or directory");
}
