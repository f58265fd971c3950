#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

namespace sluice::cli {
namespace {

void add_common(CLI::App& app, CommonOptions& options, bool runs) {
  app.add_option("--config,-c", options.config_files,
                 "Config file (repeatable; default /etc/sluice/sluice.yaml)");
  app.add_option("--config-directory", options.config_directories,
                 "Folder whose *.yaml files are merged (default /etc/sluice/sluice.d)");
  app.add_option("--log-level", options.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--input-filter", options.input_filter,
                 "Only these inputs, separated by ':' or ',' (e.g. cpu:mem)");
  app.add_option("--plugin-dir", options.plugin_dirs,
                 "Folder of plugin shared objects (repeatable; instead of agent.plugin_dirs)");
  if (runs) {
    app.add_option("--output-filter", options.output_filter,
                   "Only these outputs, separated by ':' or ','");
    app.add_option("--pidfile", options.pidfile, "Write the process id to this file");
  }
}

}  // namespace

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> names;
  std::string current;
  for (char c : list) {
    if (c == ',' || c == ':') {
      if (!current.empty()) names.push_back(current);
      current.clear();
    } else if (c != ' ') {
      current += c;
    }
  }
  if (!current.empty()) names.push_back(current);
  return names;
}

int main(int argc, char** argv) {
  CLI::App app{"sluice: gathers metrics, processes and aggregates them, and delivers them."};
  app.set_version_flag("--version", SLUICE_VERSION);
  CommonOptions common;
  add_common(app, common, true);

  CommonOptions run_opts, test_opts, once_opts, check_opts;
  auto* run = app.add_subcommand("run", "Run the agent (the default command)");
  add_common(*run, run_opts, true);
  auto* test = app.add_subcommand(
      "test", "Gather once (twice, 0.5 s apart, for rate inputs such as cpu) and print line "
              "protocol to stdout; no outputs");
  add_common(*test, test_opts, false);
  auto* once = app.add_subcommand("once", "Gather once, write to the outputs once, and exit");
  add_common(*once, once_opts, true);
  auto* check = app.add_subcommand("check", "Validate the config; exit 1 with the error if invalid");
  add_common(*check, check_opts, false);

  std::string inputs, processors, aggregators, outputs;
  auto* config = app.add_subcommand(
      "config", "Print a sample config built from the plugins' option tables");
  config->add_option("--inputs", inputs, "Inputs to include (a:b or a,b)");
  config->add_option("--processors", processors, "Processors to include");
  config->add_option("--aggregators", aggregators, "Aggregators to include");
  config->add_option("--outputs", outputs, "Outputs to include");
  std::vector<std::string> config_plugin_dirs, plugins_plugin_dirs;
  config->add_option("--plugin-dir", config_plugin_dirs,
                     "Folder of plugin shared objects (repeatable; instead of agent.plugin_dirs)");

  std::string options_of;
  auto* plugins = app.add_subcommand("plugins", "List the plugins: built-ins and shared objects");
  plugins->add_option("--options", options_of,
                      "Print one plugin's option table as Markdown, e.g. inputs.cpu");
  plugins->add_option("--plugin-dir", plugins_plugin_dirs,
                      "Folder of plugin shared objects (repeatable; instead of agent.plugin_dirs)");
  auto* version = app.add_subcommand("version", "Print the version");
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto normalize = [](CommonOptions& o, const CommonOptions& top) {
    // Options given before the command name count too.
    if (o.config_files.empty()) o.config_files = top.config_files;
    if (o.config_directories.empty()) o.config_directories = top.config_directories;
    if (o.log_level.empty()) o.log_level = top.log_level;
    if (o.pidfile.empty()) o.pidfile = top.pidfile;
    if (o.input_filter.empty()) o.input_filter = top.input_filter;
    if (o.output_filter.empty()) o.output_filter = top.output_filter;
    if (o.plugin_dirs.empty()) o.plugin_dirs = top.plugin_dirs;
    return o;
  };
  if (test->parsed()) return test_command(normalize(test_opts, common));
  if (once->parsed()) return once_command(normalize(once_opts, common));
  if (check->parsed()) return check_command(normalize(check_opts, common));
  if (config->parsed()) {
    if (config_plugin_dirs.empty()) config_plugin_dirs = common.plugin_dirs;
    return config_command(split_names(inputs), split_names(processors), split_names(aggregators),
                          split_names(outputs), config_plugin_dirs);
  }
  if (plugins->parsed()) {
    if (plugins_plugin_dirs.empty()) plugins_plugin_dirs = common.plugin_dirs;
    return plugins_command(options_of, plugins_plugin_dirs);
  }
  if (version->parsed()) return version_command();
  return run_command(normalize(run_opts, common));
}


}  // namespace sluice::cli
