// tail input: real files written, appended, rotated (rename and copytruncate), truncated and
// created while the input follows them; exact metrics, none lost or read twice.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "plugin_test_support.hpp"
#include "service_recorder.hpp"
#include "tail_files.hpp"
#include "support/net.hpp"
#include "support/test_plugins.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

std::vector<std::string> expected(int from, int to, const std::string& path) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) {
    out.push_back("m,n=" + std::to_string(i) + ",path=" + path + " v=" + std::to_string(i) + "i " +
                  std::to_string(1000 + i));
  }
  return out;
}

// One string, so that a failed comparison shows both sides.
std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& l : v) s += l + "\n";
  return s;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end(), [](const std::string& a, const std::string& b) {
    // By the number after "n=", so that 10 follows 9.
    auto n = [](const std::string& l) { return std::stoi(l.substr(l.find(",n=") + 3)); };
    return n(a) < n(b);
  });
  return v;
}

// Creates tail as the agent does: its options plus data_format and every parser's options.
std::unique_ptr<Input> make_tail(const OptionOverrides& overrides) {
  plugin::PluginInfo info = input_info("tail");
  info.options.push_back({"data_format", OptionType::kString, "influx", "format"});
  for (const plugin::PluginInfo* parser : builtin_registry().list(plugin::Kind::kParser)) {
    info.options.insert(info.options.end(), parser->options.begin(), parser->options.end());
  }
  Options options = plugin_options(info, overrides);
  static NullLogger log;  // the input keeps it for its thread
  return info.create_input(PluginContext{options, log});
}

struct Started {
  std::unique_ptr<Input> input;
  ServiceInput* service = nullptr;
  ServiceRecorder rec;
  explicit Started(const OptionOverrides& o) : input(make_tail(o)) {
    service = dynamic_cast<ServiceInput*>(input.get());
    REQUIRE(service != nullptr);
    service->start(rec);
  }
  ~Started() { service->stop(); }
  bool has(size_t n) {
    return eventually([&] { return rec.metric_count() >= n; }, 10);
  }
};

}  // namespace

TEST_CASE(
    "tail from_beginning reads the file, then what is appended, keeping a partial last line") {
  for (std::string method : {"inotify", "poll"}) {
    CAPTURE(method);
    TempDir dir("tail");
    std::string path = dir / "app.log";
    append(path, lines(0, 2));
    Started t({{"files", std::vector<std::string>{path}},
               {"from_beginning", true},
               {"watch_method", method}});
    REQUIRE(t.has(2));
    append(path, lines(2, 4) + "m,n=4 v=4i");  // the last line is not finished
    REQUIRE(t.has(4));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    CHECK(t.rec.metric_count() == 4);
    append(path, " 1004\n");
    REQUIRE(t.has(5));
    CHECK(joined(sorted(t.rec.lines())) == joined(expected(0, 5, path)));
    CHECK(t.rec.rejected().empty());
    CHECK(t.rec.errors().empty());
  }
}

TEST_CASE("tail starts at the end by default, and skips the rest of a line begun before") {
  TempDir dir("tail");
  std::string path = dir / "app.log";
  append(path, lines(0, 3) + "m,n=99 v=");
  Started t({{"files", std::vector<std::string>{path}}});
  append(path, "99i 99\n" + lines(3, 5));
  REQUIRE(t.has(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(joined(sorted(t.rec.lines())) == joined(expected(3, 5, path)));
  CHECK(t.rec.rejected().empty());
}

TEST_CASE(
    "tail follows a rotation by rename: the old file to its end, the new one from its beginning") {
  for (std::string method : {"inotify", "poll"}) {
    CAPTURE(method);
    TempDir dir("tail");
    std::string path = dir / "app.log";
    append(path, "");
    Started t({{"files", std::vector<std::string>{path}}, {"watch_method", method}});
    // A writer that keeps its descriptor across the rename, as a daemon does until told to
    // reopen.
    int writer = open(path.c_str(), O_WRONLY | O_APPEND);
    REQUIRE(writer >= 0);
    auto write_fd = [&](const std::string& s) {
      REQUIRE(write(writer, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
    };
    write_fd(lines(0, 3));
    REQUIRE(t.has(3));
    std::filesystem::rename(path, dir / "app.log.1");
    write_fd(lines(3, 5));      // late lines into the renamed file
    append(path, lines(5, 8));  // the new file
    write_fd(lines(8, 9));
    close(writer);
    REQUIRE(t.has(9));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK(joined(sorted(t.rec.lines())) == joined(expected(0, 9, path)));
    // Rotating again: a third generation.
    std::filesystem::rename(path, dir / "app.log.2");
    append(path, lines(9, 12));
    REQUIRE(t.has(12));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK(joined(sorted(t.rec.lines())) == joined(expected(0, 12, path)));
  }
}

TEST_CASE("tail notices a copytruncate and reads the file again from its beginning") {
  for (std::string method : {"inotify", "poll"}) {
    CAPTURE(method);
    TempDir dir("tail");
    std::string path = dir / "app.log";
    append(path, "");
    Started t({{"files", std::vector<std::string>{path}}, {"watch_method", method}});
    append(path, lines(0, 4));
    REQUIRE(t.has(4));
    std::filesystem::copy_file(path, dir / "app.log.1");
    std::filesystem::resize_file(path, 0);
    append(path, lines(4, 6));  // shorter than what was read before the truncation
    REQUIRE(t.has(6));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK(joined(sorted(t.rec.lines())) == joined(expected(0, 6, path)));
  }
}

TEST_CASE("tail picks up new files matching a glob and reads them from their beginning") {
  TempDir dir("tail");
  std::filesystem::create_directories(dir.path() / "sub");
  std::string first = dir / "a.log";
  append(first, lines(0, 2));
  Started t({{"files", std::vector<std::string>{dir / "*.log", dir / "**/deep.log"}},
             {"from_beginning", true}});
  REQUIRE(t.has(2));
  std::string second = dir / "b.log";
  append(second, lines(2, 4));
  std::string deep = dir / "sub/deep.log";
  append(deep, lines(4, 5));
  append(dir / "c.txt", lines(100, 101));  // not matched
  REQUIRE(t.has(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  std::vector<std::string> want = expected(0, 2, first);
  for (auto& l : expected(2, 4, second)) want.push_back(l);
  for (auto& l : expected(4, 5, deep)) want.push_back(l);
  CHECK(joined(sorted(t.rec.lines())) == joined(want));
}

TEST_CASE(
    "tail hands over many appended lines in few batches, and rejects a bad line with its file") {
  TempDir dir("tail");
  std::string path = dir / "app.log";
  append(path, "");
  Started t({{"files", std::vector<std::string>{path}}, {"path_tag", std::string("file")}});
  std::string text = lines(0, 2000);
  text += "this is not line protocol\n";
  text += lines(2000, 2001);
  int fd = open(path.c_str(), O_WRONLY | O_APPEND);
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  REQUIRE(t.has(2001));
  // Read in large runs, not line by line (one batch unless a read met the write half done).
  CHECK(t.rec.batches() <= 10);
  std::vector<std::string> rejected = t.rec.rejected();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].starts_with(path + ": data_format influx, line "));
  CHECK(sorted(t.rec.lines()).size() == 2001);
  std::vector<Metric> metrics = t.rec.metrics();
  CHECK(metrics.back().tag("file") == path);
  CHECK(!metrics.back().has_tag("path"));
}

TEST_CASE("tail initial_read_offset saved-or-end resumes where a stopped configuration left off") {
  TempDir dir("tail");
  std::string path = dir / "app.log";
  append(path, lines(0, 1));
  {
    Started t({{"files", std::vector<std::string>{path}},
               {"initial_read_offset", std::string("saved-or-beginning")}});
    REQUIRE(t.has(1));
    append(path, lines(1, 2) + "m,n=2 v=2i");  // 1002 comes later
    REQUIRE(t.has(2));
  }
  append(path, " 1002\n" + lines(3, 4));  // written between the two configurations
  Started t({{"files", std::vector<std::string>{path}},
             {"initial_read_offset", std::string("saved-or-end")}});
  REQUIRE(t.has(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<std::string> want = expected(2, 3, path);
  for (auto& l : expected(3, 4, path)) want.push_back(l);
  CHECK(joined(sorted(t.rec.lines())) == joined(want));
}

TEST_CASE("tail options are checked when the input is created") {
  auto error_of = [](const OptionOverrides& o) -> std::string {
    try {
      make_tail(o);
    } catch (const OptionError& e) {
      return e.option() + ": " + e.what();
    }
    return "";
  };
  CHECK(error_of({{"files", std::vector<std::string>{}}}) ==
        "files: give at least one file or glob to follow");
  CHECK(
      error_of({{"files", std::vector<std::string>{"/x"}}, {"watch_method", std::string("fam")}}) ==
      "watch_method: expected inotify or poll, got \"fam\"");
  CHECK(error_of({{"files", std::vector<std::string>{"/x"}},
                  {"initial_read_offset", std::string("middle")}}) ==
        "initial_read_offset: expected beginning, end, saved-or-beginning or saved-or-end, got "
        "\"middle\"");
  CHECK(error_of({{"files", std::vector<std::string>{"/x"}}, {"data_format", std::string("nope")}})
            .starts_with("data_format: unknown data format \"nope\""));
}

TEST_CASE("tail skips a line longer than 4 MiB, reports it, and reads the next lines") {
  TempDir dir("tail");
  std::string path = dir / "app.log";
  append(path, "");
  Started t({{"files", std::vector<std::string>{path}}});
  append(path, "m,n=0 v=" + std::string(5 << 20, '1') + "i 1000\n" + lines(1, 3));
  REQUIRE(t.has(2));
  REQUIRE(eventually([&] { return !t.rec.rejected().empty(); }));
  CHECK(t.rec.rejected() ==
        std::vector<std::string>{path + ": 1 line(s) longer than 4 MiB skipped"});
  CHECK(joined(sorted(t.rec.lines())) == joined(expected(1, 3, path)));
}
