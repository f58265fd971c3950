// Plugin folders for the tests: fresh folders of mode 0755 holding copies of built libraries.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <initializer_list>
#include <string>

namespace sluice::testing {

// A library built for the tests by tests/CMakeLists.txt, by its variant name ("good",
// "no_init", ...) or module name ("abi_c_plugins").
inline std::string abi_variant(const std::string& variant) {
  return SLUICE_ABI_MODULES_DIR "/abi_variant_" + variant + ".so";
}
inline std::string abi_module(const std::string& name) {
  return SLUICE_ABI_MODULES_DIR "/" + name + ".so";
}

// A fresh folder under the temporary directory, mode 0755, with copies of `libraries` (mode
// 0755, named as the originals).
inline std::filesystem::path plugin_folder(const std::string& name,
                                           std::initializer_list<std::string> libraries = {}) {
  namespace fs = std::filesystem;
  // The process id keeps tests run at once, from this tree or another, apart.
  fs::path dir =
      fs::temp_directory_path() / ("sluice-abi-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  for (const std::string& library : libraries) {
    fs::path to = dir / fs::path(library).filename();
    fs::copy_file(library, to, fs::copy_options::overwrite_existing);
    ::chmod(to.c_str(), 0755);
  }
  return dir;
}

// Copies one more library into `dir`, under `as` if given.
inline std::string add_library(const std::filesystem::path& dir, const std::string& library,
                               const std::string& as = "") {
  namespace fs = std::filesystem;
  fs::path to = dir / (as.empty() ? fs::path(library).filename() : fs::path(as));
  fs::copy_file(library, to, fs::copy_options::overwrite_existing);
  ::chmod(to.c_str(), 0755);
  return to.string();
}

}  // namespace sluice::testing
