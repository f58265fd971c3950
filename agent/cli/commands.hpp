// The command line: sluice [run] | test | once | check | config | plugins | version.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace sluice::cli {

// Options shared by the commands that read a config.
struct CommonOptions {
  std::vector<std::string> config_files;
  std::vector<std::string> config_directories;
  std::string log_level;  // empty: the config's
  std::string pidfile;
  std::string input_filter;   // "cpu:mem" or "cpu,mem"
  std::string output_filter;
  std::vector<std::string> plugin_dirs;  // --plugin-dir: instead of agent.plugin_dirs
};

// Where the config comes from: the flags, else /etc/sluice/sluice.yaml and
// /etc/sluice/sluice.d/, else (run from a build tree) the repository's config/sluice.yaml.
config::LoadOptions load_options(const CommonOptions& options);

int run_command(const CommonOptions& options);
int test_command(const CommonOptions& options);
int once_command(const CommonOptions& options);
int check_command(const CommonOptions& options);
int config_command(const std::vector<std::string>& inputs, const std::vector<std::string>& processors,
                   const std::vector<std::string>& aggregators,
                   const std::vector<std::string>& outputs,
                   const std::vector<std::string>& plugin_dirs = {});
int plugins_command(const std::string& options_of,
                    const std::vector<std::string>& plugin_dirs = {});
int version_command();

// "cpu:mem" or "cpu,mem" -> {"cpu", "mem"}.
std::vector<std::string> split_names(const std::string& list);

int main(int argc, char** argv);

}  // namespace sluice::cli
