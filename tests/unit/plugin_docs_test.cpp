// Every built-in plugin has a README whose option table is the one generated from its option
// table, so the docs cannot drift from the code.
#include <doctest/doctest.h>

#include <filesystem>

#include "config/sample.hpp"
#include "plugin/registry.hpp"
#include "support/process.hpp"

TEST_CASE("each built-in plugin's README carries its generated option table") {
  using sluice::plugin::Kind;
  const auto& registry = sluice::plugin::Registry::builtins();
  size_t checked = 0;
  for (Kind kind : {Kind::kInput, Kind::kProcessor, Kind::kAggregator, Kind::kOutput,
                    Kind::kSerializer, Kind::kParser}) {
    for (const auto* info : registry.list(kind)) {
      std::filesystem::path readme = std::filesystem::path(SLUICE_SOURCE_DIR) / "plugins" /
                                     std::string(sluice::plugin::kind_section(kind)) /
                                     info->name / "README.md";
      INFO("plugin " << readme.string());
      REQUIRE(std::filesystem::exists(readme));
      std::string text = sluice::testing::read_text(readme);
      CHECK(text.find("```yaml") != std::string::npos);  // a sample config
      if (!info->options.empty()) {
        CHECK(text.find(sluice::config::options_markdown(*info)) != std::string::npos);
      }
      ++checked;
    }
  }
  CHECK(checked >= 5);
}
