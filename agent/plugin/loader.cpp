#include "plugin/loader.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "plugin/abi_adapter.hpp"
#include "sluice/plugin_abi.h"

namespace sluice::plugin {
namespace {

namespace fs = std::filesystem;

// Not having the default folder is normal (no plugins installed); any other missing folder was
// asked for and is worth a warning.
constexpr const char* kDefaultPluginDir = "/usr/lib/sluice/plugins";

// What identifies one version of a file: a replaced or rebuilt library differs.
struct FileId {
  dev_t device = 0;
  ino_t inode = 0;
  int64_t mtime_ns = 0;
  off_t size = 0;
  bool operator==(const FileId&) const = default;
};

FileId file_id(const struct stat& st) {
  return FileId{st.st_dev, st.st_ino,
                static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                st.st_size};
}

struct Library {
  FileId id;
  std::string refusal;     // why it was refused; empty when loaded
  void* handle = nullptr;  // set once loaded, never closed
  std::string version;
  std::vector<PluginInfo> plugins;
};

struct Store {
  std::mutex mutex;
  std::map<std::string, Library> libraries;  // by canonical path
  // One registry per base and set of libraries; kept forever (see loader.hpp).
  std::map<std::pair<const Registry*, std::vector<std::string>>, std::unique_ptr<Registry>>
      registries;
};

// Never destroyed: pipelines torn down at exit may still reach into its registries.
Store& store() {
  static Store* instance = new Store;
  return *instance;
}

std::string mode_text(mode_t mode) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

#define SLUICE_SIZE_THROUGH(type, member) (offsetof(type, member) + sizeof(type::member))

// dlopen()s the library and reads its descriptors into `lib`. Returns why it is refused, or
// "". A refused library is closed again: none of its code will run any more.
std::string open_library(const std::string& path, Library& lib) {
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return std::string("cannot be loaded: ") + (why != nullptr ? why : "dlopen failed");
  }
  auto refuse = [&](std::string why) {
    dlclose(handle);
    return why;
  };
  auto init = reinterpret_cast<sluice_plugin_init_fn>(dlsym(handle, SLUICE_PLUGIN_INIT_SYMBOL));
  if (init == nullptr) {
    return refuse(
        "no symbol sluice_plugin_init: not a sluice plugin (SLUICE_PLUGIN missing, "
        "or the symbol is hidden)");
  }
  const sluice_library* d = init(host_api(), SLUICE_ABI_MAJOR);
  if (d == nullptr) return refuse("sluice_plugin_init returned no library descriptor");
  // struct_size and abi_major come first in every version, so they can always be read.
  if (d->struct_size < SLUICE_SIZE_THROUGH(sluice_library, abi_major)) {
    return refuse("library descriptor too small: struct_size " + std::to_string(d->struct_size));
  }
  if (d->abi_major != SLUICE_ABI_MAJOR) {
    return refuse("built for plugin ABI " + std::to_string(d->abi_major) + ", this agent has ABI " +
                  std::to_string(SLUICE_ABI_MAJOR) + "." + std::to_string(SLUICE_ABI_MINOR) +
                  "; rebuild it with this agent's SDK");
  }
  if (d->struct_size < SLUICE_SIZE_THROUGH(sluice_library, error)) {
    return refuse("library descriptor too small: struct_size " + std::to_string(d->struct_size) +
                  ", this agent needs at least " +
                  std::to_string(SLUICE_SIZE_THROUGH(sluice_library, error)));
  }
  if (d->error != nullptr) return refuse(std::string("the library refuses to run: ") + d->error);
  if (d->plugin_count > 0 && d->plugins == nullptr) {
    return refuse("plugin_count without plugins");
  }
  lib.version = d->version != nullptr ? d->version : "";
  std::set<std::pair<Kind, std::string>> names;
  for (uint32_t i = 0; i < d->plugin_count; ++i) {
    const sluice_plugin* p = d->plugins[i];
    if (std::string why = check_descriptor(p); !why.empty()) {
      return refuse("plugin " + std::to_string(i) + ": " + why);
    }
    PluginInfo info = plugin_info(*p, path, lib.version);
    if (!names.insert({info.kind, info.name}).second) {
      return refuse(std::string(kind_name(info.kind)) + " plugin \"" + info.name +
                    "\" is declared twice");
    }
    lib.plugins.push_back(std::move(info));
  }
  if (lib.plugins.empty()) return refuse("the library declares no plugin this agent can use");
  lib.handle = handle;
  return "";
}

#undef SLUICE_SIZE_THROUGH

// The library at `path` (canonical) as loaded now or before.
Library& library(Store& s, const std::string& path, const FileId& id,
                 std::vector<std::string>& warnings) {
  auto it = s.libraries.find(path);
  if (it != s.libraries.end()) {
    Library& lib = it->second;
    if (lib.handle != nullptr) {
      if (!(lib.id == id)) {
        // The process keeps the code it has mapped; only a restart maps the new file.
        warnings.push_back("plugin library " + path +
                           " changed since it was loaded; the agent goes on with the version "
                           "it loaded, restart it to load the new one");
      }
      return lib;
    }
    if (lib.id == id) return lib;  // refused before, and unchanged
  }
  Library fresh;
  fresh.id = id;
  fresh.refusal = open_library(path, fresh);
  Library& lib = s.libraries[path];
  lib = std::move(fresh);
  return lib;
}

std::vector<std::string> shared_objects(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".so") found.push_back(entry.path().string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::string check_ownership(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::string("cannot be read: ") + std::strerror(errno);
  const char* what = S_ISDIR(st.st_mode) ? "folder" : "file";
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return std::string("the ") + what + " is writable by " +
           ((st.st_mode & S_IWOTH) != 0 ? "others" : "its group") + " (mode " +
           mode_text(st.st_mode) + "), so anyone could put code into the agent; make it " +
           (S_ISDIR(st.st_mode) ? "0755" : "0644 or 0755");
  }
  uid_t self = geteuid();
  if (st.st_uid != 0 && st.st_uid != self) {
    return std::string("the ") + what + " is owned by uid " + std::to_string(st.st_uid) +
           ", neither root nor the agent's user (uid " + std::to_string(self) + ")";
  }
  return "";
}

PluginSet load_plugins(const std::vector<std::string>& dirs, LoadErrorPolicy policy,
                       const Registry& base) {
  Store& s = store();
  std::lock_guard lock(s.mutex);
  PluginSet set;
  auto refuse = [&](const std::string& where, const std::string& why) {
    std::string message = "plugin library " + where + ": " + why;
    if (policy == LoadErrorPolicy::kError) {
      throw PluginLoadError(message +
                            " (with agent.plugin_load_error: skip the agent starts "
                            "without it)");
    }
    set.warnings.push_back(message + "; skipped");
  };

  // The libraries to use, in load order, by canonical path.
  std::vector<std::pair<std::string, Library*>> chosen;
  std::set<std::string> seen;
  for (const std::string& dir : dirs) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
      if (dir != kDefaultPluginDir)
        set.warnings.push_back("plugin folder " + dir + " does not exist");
      continue;
    }
    if (!fs::is_directory(dir, ec)) {
      refuse(dir, "not a folder");
      continue;
    }
    if (std::string why = check_ownership(dir); !why.empty()) {
      refuse(dir, why);
      continue;
    }
    std::string canonical_dir = fs::canonical(dir, ec).string();
    for (const std::string& path : shared_objects(dir)) {
      std::string canonical = fs::canonical(path, ec).string();
      if (ec) {
        refuse(path, "cannot be resolved: " + ec.message());
        continue;
      }
      if (!seen.insert(canonical).second) continue;  // the same file found twice
      struct stat st {};
      if (::stat(canonical.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        refuse(path, "not a regular file");
        continue;
      }
      if (std::string why = check_ownership(canonical); !why.empty()) {
        refuse(path, why);
        continue;
      }
      // A link may lead out of the plugin folder: the folder it leads to counts too.
      std::string real_dir = fs::path(canonical).parent_path().string();
      if (real_dir != canonical_dir) {
        if (std::string why = check_ownership(real_dir); !why.empty()) {
          refuse(path, "it links into " + real_dir + ": " + why);
          continue;
        }
      }
      Library& lib = library(s, canonical, file_id(st), set.warnings);
      if (!lib.refusal.empty()) {
        refuse(path, lib.refusal);
        continue;
      }
      chosen.emplace_back(canonical, &lib);
    }
  }

  // Name clashes, with a built-in or an earlier library, refuse the later library as a whole.
  std::map<std::pair<Kind, std::string>, std::string> origins;
  for (Kind kind :
       {Kind::kInput, Kind::kProcessor, Kind::kAggregator, Kind::kOutput, Kind::kSerializer,
        Kind::kParser}) {
    for (const PluginInfo* info : base.list(kind)) origins[{kind, info->name}] = info->origin;
  }
  std::vector<std::string> key;
  std::vector<Library*> accepted;
  for (const auto& [path, lib] : chosen) {
    std::string clash;
    for (const PluginInfo& info : lib->plugins) {
      auto it = origins.find({info.kind, info.name});
      if (it != origins.end()) {
        clash = std::string(kind_name(info.kind)) + " plugin \"" + info.name + "\" from " + path +
                " clashes with the one from " + it->second;
        break;
      }
    }
    if (!clash.empty()) {
      refuse(path, clash);
      continue;
    }
    for (const PluginInfo& info : lib->plugins) origins[{info.kind, info.name}] = path;
    key.push_back(path);
    accepted.push_back(lib);
    LibraryReport report{path, lib->version, {}};
    for (const PluginInfo& info : lib->plugins)
      report.plugins.emplace_back(info.library_kind, info.name);
    set.libraries.push_back(std::move(report));
  }

  if (accepted.empty()) {
    set.registry = &base;
    return set;
  }
  auto& slot = s.registries[{&base, key}];
  if (!slot) {
    auto registry = std::make_unique<Registry>(base);
    for (Library* lib : accepted) {
      for (const PluginInfo& info : lib->plugins) registry->add(info);
    }
    slot = std::move(registry);
  }
  set.registry = slot.get();
  return set;
}

}  // namespace sluice::plugin
