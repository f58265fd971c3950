// The loader: what it loads, what it refuses and how it says so.
#include "plugin/loader.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "abi/abi_test_support.hpp"
#include "plugin/registry.hpp"

namespace fs = std::filesystem;
using sluice::plugin::Kind;
using sluice::plugin::load_plugins;
using sluice::plugin::LoadErrorPolicy;
using sluice::plugin::PluginLoadError;
using sluice::plugin::PluginSet;
using sluice::testing::abi_module;
using sluice::testing::abi_variant;
using sluice::testing::add_library;
using sluice::testing::plugin_folder;

namespace {

// The message of the refusal of the only library in a folder holding `library`.
std::string refusal(const std::string& name, const std::string& library) {
  fs::path dir = plugin_folder(name, {library});
  try {
    load_plugins({dir.string()}, LoadErrorPolicy::kError);
  } catch (const PluginLoadError& e) {
    return e.what();
  }
  return "(loaded)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class QuietLogger final : public sluice::Logger {
 public:
  void log(sluice::LogLevel, std::string_view) override {}
  bool enabled(sluice::LogLevel) const override { return false; }
};

}  // namespace

TEST_CASE("the example libraries load and join the built-ins") {
  fs::path dir = plugin_folder(
      "examples", {SLUICE_EXAMPLE_NUMBERS, SLUICE_EXAMPLE_SQUARE, SLUICE_EXAMPLE_APPEND_FILE});
  PluginSet set = load_plugins({dir.string()}, LoadErrorPolicy::kError);
  CHECK(set.warnings.empty());
  REQUIRE(set.libraries.size() == 3);
  CHECK(set.libraries[0].path == fs::canonical(dir / "append_file.so").string());
  CHECK(set.libraries[0].version == "1.0.0");
  REQUIRE(set.libraries[1].plugins.size() == 1);
  CHECK(set.libraries[1].plugins[0] == std::pair<std::string, std::string>("input", "numbers"));

  const auto* numbers = set.registry->find(Kind::kInput, "numbers");
  REQUIRE(numbers != nullptr);
  CHECK(numbers->origin == fs::canonical(dir / "numbers.so").string());
  CHECK(numbers->version == "1.0.0");
  CHECK(numbers->library_kind == "input");
  CHECK(numbers->description == "Read numbers from a file, one per line");
  REQUIRE(numbers->options.size() == 3);
  CHECK(numbers->options[0].name == "path");
  CHECK(numbers->options[0].required);
  CHECK(numbers->options[1].default_yaml == "numbers");
  CHECK(set.registry->find(Kind::kProcessor, "square") != nullptr);
  CHECK(set.registry->find(Kind::kOutput, "append_file") != nullptr);
  // The built-ins are all still there; the built-in registry itself is untouched.
  CHECK(set.registry->find(Kind::kInput, "cpu") != nullptr);
  CHECK(sluice::plugin::Registry::builtins().find(Kind::kInput, "numbers") == nullptr);
}

TEST_CASE("loading again reuses what is loaded, and a new library makes a new registry") {
  fs::path dir = plugin_folder("reload", {SLUICE_EXAMPLE_NUMBERS});
  PluginSet first = load_plugins({dir.string()}, LoadErrorPolicy::kError);
  PluginSet again = load_plugins({dir.string()}, LoadErrorPolicy::kError);
  CHECK(first.registry == again.registry);
  add_library(dir, SLUICE_EXAMPLE_SQUARE);
  PluginSet more = load_plugins({dir.string()}, LoadErrorPolicy::kError);
  CHECK(more.registry != first.registry);
  CHECK(more.registry->find(Kind::kProcessor, "square") != nullptr);
  // The older registry stays valid for whatever still points into it.
  CHECK(first.registry->find(Kind::kProcessor, "square") == nullptr);
  CHECK(first.registry->find(Kind::kInput, "numbers") != nullptr);
}

TEST_CASE("a broken library is refused with the file and the reason") {
  struct Case {
    std::string library;
    std::string reason;
  };
  const Case cases[] = {
      {SLUICE_EXAMPLE_BROKEN_ABI, "built for plugin ABI 2, this agent has ABI 1.1"},
      {abi_variant("no_init"), "no symbol sluice_plugin_init"},
      {abi_variant("small_library"), "library descriptor too small: struct_size 12"},
      {abi_variant("small_plugin"), "plugin 0: descriptor too small: struct_size 8"},
      {abi_variant("clash_cpu"), "input plugin \"cpu\" from "},
      {abi_variant("bad_name"), "a plugin name of a-z, 0-9 and _ is needed"},
      {abi_variant("null_callback"), "plugin \"c_pass\": a processor without process()"},
      {abi_variant("host_option"),
       "option \"alias\" is one of the agent's own options for every processor"},
      {abi_variant("library_error"),
       "the library refuses to run: needs a feature this agent lacks"},
  };
  int n = 0;
  for (const Case& c : cases) {
    std::string file = fs::path(c.library).filename().string();
    std::string message = refusal("refused-" + std::to_string(n++), c.library);
    INFO(message);
    CHECK(message.starts_with("plugin library /"));
    CHECK(contains(message, "/" + file + ": "));
    CHECK(contains(message, c.reason));
    CHECK(contains(message, "agent.plugin_load_error: skip"));
  }
  CHECK(contains(refusal("clash", abi_variant("clash_cpu")), "clashes with the one from built-in"));
}

TEST_CASE("the same library in two files clashes, naming both files") {
  fs::path dir = plugin_folder("two-copies", {SLUICE_EXAMPLE_NUMBERS});
  std::string copy = add_library(dir, SLUICE_EXAMPLE_NUMBERS, "numbers_copy.so");
  try {
    load_plugins({dir.string()}, LoadErrorPolicy::kError);
    FAIL("loaded");
  } catch (const PluginLoadError& e) {
    std::string message = e.what();
    CHECK(contains(message, "input plugin \"numbers\" from " + fs::canonical(copy).string() +
                                " clashes with the one from " +
                                fs::canonical(dir / "numbers.so").string()));
  }
}

TEST_CASE("with plugin_load_error: skip, the agent goes on without the refused library") {
  fs::path dir = plugin_folder(
      "skip", {SLUICE_EXAMPLE_NUMBERS, SLUICE_EXAMPLE_BROKEN_ABI, abi_variant("no_init")});
  PluginSet set = load_plugins({dir.string()}, LoadErrorPolicy::kSkip);
  CHECK(set.registry->find(Kind::kInput, "numbers") != nullptr);
  CHECK(set.libraries.size() == 1);
  REQUIRE(set.warnings.size() == 2);
  // In the order of the files' names.
  CHECK(contains(set.warnings[0], "abi_variant_no_init.so: no symbol"));
  CHECK(contains(set.warnings[1], "broken_abi.so: built for plugin ABI 2"));
  CHECK(set.warnings[1].ends_with("; skipped"));
}

TEST_CASE("files and folders others could write to are refused") {
  SUBCASE("a file writable by others") {
    fs::path dir = plugin_folder("mode-file", {SLUICE_EXAMPLE_NUMBERS});
    ::chmod((dir / "numbers.so").c_str(), 0666);
    std::string message;
    try {
      load_plugins({dir.string()}, LoadErrorPolicy::kError);
    } catch (const PluginLoadError& e) {
      message = e.what();
    }
    CHECK(contains(message, "numbers.so: the file is writable by others (mode 0666)"));
  }
  SUBCASE("a file writable by its group") {
    fs::path dir = plugin_folder("mode-group", {SLUICE_EXAMPLE_NUMBERS});
    ::chmod((dir / "numbers.so").c_str(), 0775);
    PluginSet set = load_plugins({dir.string()}, LoadErrorPolicy::kSkip);
    REQUIRE(set.warnings.size() == 1);
    CHECK(contains(set.warnings[0], "the file is writable by its group (mode 0775)"));
    CHECK(set.registry->find(Kind::kInput, "numbers") == nullptr);
  }
  SUBCASE("a folder writable by others") {
    fs::path dir = plugin_folder("mode-dir", {SLUICE_EXAMPLE_NUMBERS});
    ::chmod(dir.c_str(), 01777);
    PluginSet set = load_plugins({dir.string()}, LoadErrorPolicy::kSkip);
    REQUIRE(set.warnings.size() == 1);
    CHECK(
        contains(set.warnings[0], dir.string() + ": the folder is writable by others (mode 1777)"));
    CHECK(set.libraries.empty());
  }
  SUBCASE("a link out of the plugin folder into a folder others can write to") {
    fs::path open_dir = plugin_folder("open-target", {SLUICE_EXAMPLE_NUMBERS});
    ::chmod(open_dir.c_str(), 0777);
    fs::path dir = plugin_folder("link");
    fs::create_symlink(open_dir / "numbers.so", dir / "numbers.so");
    PluginSet set = load_plugins({dir.string()}, LoadErrorPolicy::kSkip);
    REQUIRE(set.warnings.size() == 1);
    CHECK(contains(set.warnings[0], "numbers.so: it links into " +
                                        fs::canonical(open_dir).string() +
                                        ": the folder is writable by others (mode 0777)"));
  }
  SUBCASE("a file of another user") {
    if (geteuid() != 0) {
      MESSAGE("not root: cannot give a file to another user");
      return;
    }
    fs::path dir = plugin_folder("owner", {SLUICE_EXAMPLE_NUMBERS});
    REQUIRE(::chown((dir / "numbers.so").c_str(), 65534, 65534) == 0);
    PluginSet set = load_plugins({dir.string()}, LoadErrorPolicy::kSkip);
    REQUIRE(set.warnings.size() == 1);
    CHECK(contains(set.warnings[0],
                   "the file is owned by uid 65534, neither root nor the agent's user (uid 0)"));
  }
}

TEST_CASE("a parser written against the C ABI alone reads lines and reports each bad one") {
  fs::path dir = plugin_folder("c-plugins", {abi_module("abi_c_plugins")});
  PluginSet set = load_plugins({dir.string()}, LoadErrorPolicy::kError);
  CHECK(set.warnings.empty());
  REQUIRE(set.libraries.size() == 1);
  CHECK(set.libraries[0].version == "2.3.4");
  CHECK(set.registry->find(Kind::kProcessor, "c_tagger") != nullptr);
  const sluice::plugin::PluginInfo* info = set.registry->find(Kind::kParser, "c_parser");
  REQUIRE(info != nullptr);
  CHECK(info->library_kind == "parser");

  sluice::Options none;
  QuietLogger log;
  std::unique_ptr<sluice::Parser> parser = info->create_parser({none, log});
  CHECK(parser->splits_on_lines());
  sluice::Batch out;
  std::vector<sluice::ParseError> errors;
  parser->parse("load 0.5\nload\nmem 1e3", 123, out, errors);
  REQUIRE(out.size() == 2);
  CHECK(out[0].name() == "load");
  CHECK(std::get<double>(*out[0].field("value")) == 0.5);
  CHECK(out[0].time() == 123);
  CHECK(out[1].name() == "mem");
  CHECK(std::get<double>(*out[1].field("value")) == 1000.0);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].reason == "line 2: \"load\" is not \"name value\"");
}

TEST_CASE("a folder that does not exist is noted, and files other than *.so are ignored") {
  fs::path dir = plugin_folder("other-files");
  std::ofstream(dir / "README.txt") << "not a library\n";
  PluginSet set =
      load_plugins({dir.string(), "/nonexistent/sluice-plugins"}, LoadErrorPolicy::kError);
  CHECK(set.registry == &sluice::plugin::Registry::builtins());
  REQUIRE(set.warnings.size() == 1);
  CHECK(set.warnings[0] == "plugin folder /nonexistent/sluice-plugins does not exist");
}
