// tail: follows files as `tail -F` does, as Telegraf's tail input: globs (new matching files
// are picked up and read from their beginning), rotation by rename (the old file is read to its
// end, the new one from its beginning) and by copytruncate (a shorter file is read again from
// 0), any data_format, and a path tag. One thread follows every file, woken by inotify or every
// 250 ms (watch_method: poll).
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "file_glob.hpp"
#include "follower.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/parse_into.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::tail {
namespace {

using namespace std::chrono_literals;

const std::vector<OptionSpec> kOptions = {
    {"files", OptionType::kStringList, "",
     "Files to follow; globs with *, ?, [a-z] and ** (any folders)", true},
    {"from_beginning", OptionType::kBool, "false",
     "Read the files found at start from their beginning (same as initial_read_offset: "
     "beginning)"},
    {"initial_read_offset", OptionType::kString, "",
     "Where to start in files found at start: beginning, end, saved-or-beginning or "
     "saved-or-end (where the previous configuration stopped, kept across reloads); \"\" is "
     "beginning with from_beginning, else saved-or-end"},
    {"watch_method", OptionType::kString, "inotify",
     "How changes are noticed: inotify, or poll (every 250 ms)"},
    {"path_tag", OptionType::kString, "path",
     "Tag with the file's path on each metric; \"\" for none"},
};

constexpr auto kPollInterval = 250ms;
// With inotify the files are still checked this often, for what inotify does not report (a
// folder created later that matches a glob, files on network file systems).
constexpr auto kSafetyInterval = 1000ms;
// A rotated file is read until it has been quiet this long: its writer may not have reopened
// the new file yet.
constexpr auto kRotatedQuiet = 2s;
// At most this much is read from one file per round, so one busy file does not starve others.
constexpr size_t kReadBudget = 8 << 20;

// Where each file was left by a stopped configuration: the next one resumes there after a
// reload (initial_read_offset saved-or-*), as long as it is the same file.
struct SavedOffset {
  dev_t dev;
  ino_t ino;
  int64_t offset;
};
std::mutex saved_mutex;
std::map<std::string, SavedOffset>& saved_offsets() {
  static std::map<std::string, SavedOffset> offsets;
  return offsets;
}

// Adds the path tag to what the parser produced.
class TaggingAccumulator final : public Accumulator {
 public:
  TaggingAccumulator(Accumulator& inner, const std::string& key) : inner_(inner), key_(key) {}
  void set_value(const std::string& value) { value_ = value; }
  void add(Metric metric) override {
    if (!key_.empty()) metric.set_tag(key_, value_);
    inner_.add(std::move(metric));
  }
  void add_batch(Batch batch) override {
    if (!key_.empty()) {
      for (Metric& m : batch) m.set_tag(key_, value_);
    }
    inner_.add_batch(std::move(batch));
  }
  void add_error(std::string_view message) override { inner_.add_error(message); }
  void add_rejected(std::string_view message) override { inner_.add_rejected(message); }
  int64_t time() const override { return inner_.time(); }

 private:
  Accumulator& inner_;
  const std::string& key_;
  std::string value_;
};

class Tail final : public ServiceInput {
 public:
  explicit Tail(const PluginContext& ctx)
      : log_(ctx.log),
        files_(ctx.options.get_strings("files")),
        path_tag_(ctx.options.get_string("path_tag")),
        format_(ctx.options.get_string("data_format")),
        parser_(plugin::make_parser(ctx)) {
    if (files_.empty()) throw OptionError("files", "give at least one file or glob to follow");
    for (const std::string& f : files_) {
      if (f.empty()) throw OptionError("files", "an empty path");
    }
    const std::string& method = ctx.options.get_string("watch_method");
    if (method != "inotify" && method != "poll") {
      throw OptionError("watch_method", "expected inotify or poll, got \"" + method + "\"");
    }
    use_inotify_ = method == "inotify";
    initial_ = ctx.options.get_string("initial_read_offset");
    bool from_beginning = ctx.options.get_bool("from_beginning");
    // As Telegraf: the older from_beginning means "beginning"; otherwise a reload resumes where
    // the previous configuration stopped, and a file seen for the first time starts at its end.
    if (initial_.empty()) initial_ = from_beginning ? "beginning" : "saved-or-end";
    if (initial_ != "beginning" && initial_ != "end" && initial_ != "saved-or-beginning" &&
        initial_ != "saved-or-end") {
      throw OptionError(
          "initial_read_offset",
          "expected beginning, end, saved-or-beginning or saved-or-end, got \"" + initial_ + "\"");
    }
    if (from_beginning && ctx.options.is_set("initial_read_offset") &&
        initial_.find("beginning") == std::string::npos) {
      throw OptionError("from_beginning", "contradicts initial_read_offset: " + initial_);
    }
  }

  ~Tail() override { stop(); }

  void start(Accumulator& acc) override {
    if (thread_.joinable()) return;
    acc_ = &acc;
    stopping_ = false;
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
      acc.add_error("cannot create a pipe; tail does not run");
      return;
    }
    if (use_inotify_) {
      inotify_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (inotify_ < 0) {
        log_.warn("inotify is not available (" + std::string(strerror(errno)) +
                  "); polling every 250 ms instead");
      }
    }
    // The files present now start at initial_read_offset; the start offsets are taken before
    // start returns, so nothing appended afterwards is missed.
    scan(true);
    thread_ = std::thread([this] { run(); });
  }

  void stop() override {
    if (!thread_.joinable()) return;
    stopping_ = true;
    if (write(wake_[1], "x", 1) < 0) {
      // Non-blocking: a full pipe wakes the thread as well.
    }
    thread_.join();
    {
      std::lock_guard lock(saved_mutex);
      for (const auto& f : followers_) {
        if (!f->rotated) saved_offsets()[f->path()] = {f->dev(), f->ino(), f->resume_offset()};
      }
    }
    followers_.clear();
    if (inotify_ >= 0) close(inotify_);
    close(wake_[0]);
    close(wake_[1]);
    inotify_ = wake_[0] = wake_[1] = -1;
    watched_dirs_.clear();
  }

  void gather(Accumulator&) override {
    // As Telegraf: each interval the globs are looked at again (the thread also does so).
    if (thread_.joinable() && write(wake_[1], "x", 1) < 0) {
      // Already woken.
    }
  }

 private:
  void run() {
    auto last_scan = std::chrono::steady_clock::now();
    while (!stopping_) {
      // A file read up to its budget has more: look at events without waiting, then go on.
      bool more = read_all();
      bool changed = wait(more);
      if (stopping_) break;
      auto now = std::chrono::steady_clock::now();
      if (changed || inotify_ < 0 || now - last_scan >= kSafetyInterval) {
        check_rotations();
        scan(false);
        last_scan = now;
      }
    }
    // What was appended up to the stop, bounded so that stopping stays quick; the rest is read
    // after a reload from the saved offset.
    for (int i = 0; i < 4 && read_all(); ++i) {
    }
  }

  // Waits for an inotify event, a wake-up or the interval; true when something changed.
  bool wait(bool more) {
    pollfd fds[2] = {{wake_[0], POLLIN, 0}, {inotify_, POLLIN, 0}};
    auto timeout = inotify_ >= 0 ? kSafetyInterval : kPollInterval;
    int n = poll(fds, inotify_ >= 0 ? 2 : 1, more ? 0 : static_cast<int>(timeout.count()));
    bool changed = false;
    if (n > 0 && fds[0].revents != 0) {
      char buf[64];
      while (::read(wake_[0], buf, sizeof buf) > 0) {
      }
      changed = true;
    }
    if (inotify_ >= 0 && n > 0 && fds[1].revents != 0) {
      alignas(inotify_event) char buf[8192];
      while (::read(inotify_, buf, sizeof buf) > 0) {
      }
      changed = true;
    }
    return changed;
  }

  void watch_file(Follower& f) {
    if (inotify_ < 0) return;
    f.watch = inotify_add_watch(inotify_, f.path().c_str(),
                                IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);
    std::string dir =
        f.path().substr(0, f.path().rfind('/') == std::string::npos ? 0 : f.path().rfind('/'));
    watch_dir(dir.empty() ? "." : dir);
  }

  void watch_dir(const std::string& dir) {
    if (inotify_ < 0 || watched_dirs_.count(dir) != 0) return;
    if (inotify_add_watch(inotify_, dir.c_str(),
                          IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) >= 0) {
      watched_dirs_.insert(dir);
    }
  }

  Follower* find(dev_t dev, ino_t ino) {
    for (auto& f : followers_) {
      if (f->dev() == dev && f->ino() == ino) return f.get();
    }
    return nullptr;
  }

  // Finds files matching the globs that are not followed yet.
  void scan(bool first) {
    for (const std::string& pattern : files_) {
      watch_dir(glob_root(pattern));
      for (const std::string& path : expand_file_glob(pattern)) {
        struct stat st {};
        if (stat(path.c_str(), &st) != 0) continue;
        if (Follower* f = find(st.st_dev, st.st_ino)) {
          // Followed already, maybe under another name it was renamed from.
          if (f->rotated && f->path() != path) {
            f->rotated = false;
            f->set_path(path);
          }
          continue;
        }
        int64_t offset = 0;
        bool skip_partial = false;
        if (first) offset = start_offset(path, st, skip_partial);
        std::string error;
        auto f = Follower::open(path, offset, skip_partial, error);
        if (!f) {
          if (reported_.insert(path).second) acc_->add_error(error);
          continue;
        }
        reported_.erase(path);
        log_.debug("following " + path +
                   (offset > 0 ? " from offset " + std::to_string(offset)
                               : std::string(" from its beginning")));
        watch_file(*f);
        followers_.push_back(std::move(f));
      }
    }
  }

  int64_t start_offset(const std::string& path, const struct stat& st, bool& skip_partial) {
    if (initial_.starts_with("saved-or-")) {
      std::lock_guard lock(saved_mutex);
      auto it = saved_offsets().find(path);
      if (it != saved_offsets().end() && it->second.dev == st.st_dev &&
          it->second.ino == st.st_ino && it->second.offset <= st.st_size) {
        return it->second.offset;
      }
    }
    if (initial_.ends_with("beginning")) return 0;
    skip_partial = true;  // the end may be inside a line still being written
    return st.st_size;
  }

  // A followed file whose path now names another file, or nothing, was rotated away.
  void check_rotations() {
    for (auto& f : followers_) {
      if (f->rotated) continue;
      struct stat st {};
      if (stat(f->path().c_str(), &st) != 0 || st.st_dev != f->dev() || st.st_ino != f->ino()) {
        f->rotated = true;
        log_.debug(f->path() + " was rotated; reading the rest of the old file");
      }
    }
  }

  // Reads what was appended to every file; true when a file has more than its budget.
  bool read_all() {
    bool more = false;
    TaggingAccumulator tagged(*acc_, path_tag_);
    auto now = std::chrono::steady_clock::now();
    for (auto it = followers_.begin(); it != followers_.end();) {
      Follower& f = **it;
      tagged.set_value(f.tag_path());
      auto lines = [&](std::string_view text) { hand_over(text, tagged, f.tag_path()); };
      bool truncated = false;
      more = f.read(kReadBudget, lines, truncated) >= kReadBudget || more;
      if (truncated) log_.info(f.path() + " was truncated; reading it again from its beginning");
      if (size_t n = f.take_overlong(); n > 0) {
        acc_->add_rejected(
            fmt::format("{}: {} line(s) longer than 4 MiB skipped", f.tag_path(), n));
      }
      if (f.rotated && now - f.last_data > kRotatedQuiet) {
        f.flush(lines);  // a rotated file does not grow: its last line is complete
        if (f.watch >= 0 && inotify_ >= 0) inotify_rm_watch(inotify_, f.watch);
        it = followers_.erase(it);
        continue;
      }
      ++it;
    }
    return more;
  }

  void hand_over(std::string_view text, Accumulator& acc, const std::string& path) {
    if (parser_->splits_on_lines()) {
      plugin::parse_into(*parser_, format_, text, acc, path);
      return;
    }
    // Formats that cannot take several lines at once get one line at a time.
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty()) plugin::parse_into(*parser_, format_, line, acc, path);
    }
  }

  Logger& log_;
  std::vector<std::string> files_;
  std::string path_tag_;
  std::string format_;
  std::unique_ptr<Parser> parser_;  // used by the following thread only
  std::string initial_;
  bool use_inotify_ = true;

  Accumulator* acc_ = nullptr;
  std::atomic<bool> stopping_{false};
  int wake_[2] = {-1, -1};
  int inotify_ = -1;
  std::set<std::string> watched_dirs_;
  std::set<std::string> reported_;  // files that could not be opened, reported once
  std::vector<std::unique_ptr<Follower>> followers_;
  std::thread thread_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "tail";
  info.description = "Follow files as tail -F does and read their lines with a data format";
  info.options = kOptions;
  info.uses_parser = true;
  info.create_input = [](const PluginContext& ctx) { return std::make_unique<Tail>(ctx); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::tail
