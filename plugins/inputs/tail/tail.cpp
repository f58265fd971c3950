// tail: follows files as `tail -F` does, as Telegraf's tail input: globs (new matching files
// are picked up and read from their beginning), rotation by rename (the old file is read to its
// end, the new one from its beginning) and by copytruncate (a shorter file is read again from
// 0), any data_format, and a path tag. One thread follows every file, woken by inotify or every
// 250 ms (watch_method: poll). Each run of lines is tracked until the outputs have it; the offset
// up to which everything was delivered is kept in a state file under agent.state_dir, so a
// restart resumes there (state_file.hpp).
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/delivery.hpp"
#include "file_glob.hpp"
#include "follower.hpp"
#include "offset_tracker.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/parse_into.hpp"
#include "plugin/registry.hpp"
#include "state_file.hpp"

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
// The state file is written at most this often (and at stop).
constexpr auto kSaveInterval = 1s;

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

// The state files of the running tail inputs: two inputs with the same one would overwrite each
// other's offsets. The mutex also orders the writes of a stopped instance and its successor.
std::mutex state_mutex;
std::set<std::string>& active_state_files() {
  static std::set<std::string> files;
  return files;
}

// Delivery reports, from whichever thread released a chunk's last metric, for the tail thread.
struct Finished {
  uint64_t file;
  uint64_t chunk;
  bool delivered;
};
struct Inbox {
  std::mutex mutex;
  std::vector<Finished> items;
};

// Adds the path tag and the chunk's delivery group to what the parser produced.
class TaggingAccumulator final : public Accumulator {
 public:
  TaggingAccumulator(Accumulator& inner, const std::string& key) : inner_(inner), key_(key) {}
  void set_value(const std::string& value) { value_ = value; }
  void set_delivery(DeliveryHandle handle) { delivery_ = std::move(handle); }
  void add(Metric metric) override {
    if (!key_.empty()) metric.set_tag(key_, value_);
    if (delivery_) metric.set_delivery(delivery_);
    inner_.add(std::move(metric));
  }
  void add_batch(Batch batch) override {
    for (Metric& m : batch) {
      if (!key_.empty()) m.set_tag(key_, value_);
      if (delivery_) m.set_delivery(delivery_);
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
  DeliveryHandle delivery_;
};

class Tail final : public ServiceInput {
 public:
  explicit Tail(const PluginContext& ctx)
      : log_(ctx.log),
        files_(ctx.options.get_strings("files")),
        path_tag_(ctx.options.get_string("path_tag")),
        format_(ctx.options.get_string("data_format")),
        parser_(plugin::make_parser(ctx)),
        state_dir_(ctx.state_dir),
        alias_(ctx.options.has("alias") ? ctx.options.get_string("alias") : "") {
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

  ~Tail() override {
    stop();
    // Reports that came after the stop (the outputs' last flush) move the offsets further;
    // written unless a successor (after a reload) owns the file by now.
    if (state_path_.empty()) return;
    take_reports(false);
    std::lock_guard lock(state_mutex);
    if (dirty_ && active_state_files().count(state_path_) == 0) save_locked();
  }

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
    open_state();
    // The files present now start at initial_read_offset; the start offsets are taken before
    // start returns, so nothing appended afterwards is missed.
    scan(true);
    dirty_ = true;  // written soon, with the files found now
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
    for (auto& f : followers_) close_tracked(*f);
    followers_.clear();
    if (!state_path_.empty()) {
      take_reports(false);
      std::lock_guard lock(state_mutex);
      save_locked();
      active_state_files().erase(state_path_);
    }
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
      take_reports(true);
      if (dirty_ && now - last_save_ >= kSaveInterval) {
        std::lock_guard lock(state_mutex);
        save_locked();
        last_save_ = now;
      }
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
        f->id = next_file_id_++;
        tracked_.emplace(f->id, Tracked{f.get(), path, f->dev(), f->ino(), OffsetTracker(offset)});
        followers_.push_back(std::move(f));
      }
    }
  }

  int64_t start_offset(const std::string& path, const struct stat& st, bool& skip_partial) {
    if (initial_.starts_with("saved-or-")) {
      // Without a state file, a reload resumes where the previous configuration stopped reading;
      // with one, where delivery stopped (lines still in flight at the reload come again).
      if (state_path_.empty()) {
        std::lock_guard lock(saved_mutex);
        auto it = saved_offsets().find(path);
        if (it != saved_offsets().end() && it->second.dev == st.st_dev &&
            it->second.ino == st.st_ino && it->second.offset <= st.st_size) {
          return it->second.offset;
        }
      }
      // The state file of an earlier run: the same file (device and inode, under any name)
      // resumes where delivery stopped; a file now at a known path but not the one seen there
      // was replaced while the agent was down and is read from its beginning.
      for (const SavedFile& saved : saved_files_) {
        if (saved.dev != static_cast<uint64_t>(st.st_dev) ||
            saved.ino != static_cast<uint64_t>(st.st_ino)) {
          continue;
        }
        if (saved.offset > st.st_size) {
          log_.info(path + " is shorter than when the agent stopped (truncated): reading it from "
                    "its beginning");
          return 0;
        }
        skip_partial = true;  // a saved offset ends a line, unless it was the end of a partial one
        return saved.offset;
      }
      for (const SavedFile& saved : saved_files_) {
        if (saved.path == path) {
          log_.info(path + " was replaced while the agent was down: reading it from its beginning");
          return 0;
        }
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
      Tracked& tracked = tracked_.at(f.id);
      auto lines = [&](std::string_view text, int64_t end) {
        uint64_t chunk = tracked.offsets.add(end);
        tagged.set_delivery(make_delivery_group(
            [inbox = inbox_, file = f.id, chunk](bool delivered) {
              std::lock_guard lock(inbox->mutex);
              inbox->items.push_back({file, chunk, delivered});
            }));
        hand_over(text, tagged, f.tag_path());
        // Lines that gave no metric, or only rejected ones, end their group here: delivered.
        tagged.set_delivery(nullptr);
      };
      if (f.check_truncation()) {
        log_.info(f.path() + " was truncated; reading it again from its beginning");
        tracked.offsets.restart_at(0);
        dirty_ = true;
      }
      more = f.read(kReadBudget, lines) >= kReadBudget || more;
      if (size_t n = f.take_overlong(); n > 0) {
        acc_->add_rejected(
            fmt::format("{}: {} line(s) longer than 4 MiB skipped", f.tag_path(), n));
      }
      if (f.rotated && now - f.last_data > kRotatedQuiet) {
        f.flush(lines);  // a rotated file does not grow: its last line is complete
        if (f.watch >= 0 && inotify_ >= 0) inotify_rm_watch(inotify_, f.watch);
        close_tracked(f);
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

  // A followed file, or one closed whose chunks are still in flight.
  struct Tracked {
    Follower* follower;  // null once closed
    std::string path;
    dev_t dev;
    ino_t ino;
    OffsetTracker offsets;
  };

  // Finds the state file and reads what an earlier run left there.
  void open_state() {
    saved_files_.clear();
    state_path_.clear();
    take_reports(true);  // a restarted instance forgets the files of its previous run
    if (state_dir_.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(state_dir_, ec);
    if (ec) {
      log_.warn("cannot create agent.state_dir " + state_dir_ + ": " + ec.message() +
                "; read offsets are not kept across restarts");
      return;
    }
    std::string path = state_dir_ + "/" + state_file_name(alias_, files_);
    std::lock_guard lock(state_mutex);
    if (!active_state_files().insert(path).second) {
      log_.warn("another tail input with the same files uses " + path +
                "; give each an alias. Read offsets of this one are not kept across restarts");
      return;
    }
    state_path_ = path;
    std::string error;
    if (auto files = read_state(path, error)) {
      saved_files_ = std::move(*files);
    } else {
      log_.warn(error + "; ignoring it: files start as initial_read_offset " + initial_ +
                " says for files never seen");
    }
  }

  // Applies the delivery reports. `forget_closed` drops files closed with nothing in flight:
  // while running (they were rotated away); at stop every file is closed and all are kept.
  void take_reports(bool forget_closed) {
    std::vector<Finished> items;
    {
      std::lock_guard lock(inbox_->mutex);
      items.swap(inbox_->items);
    }
    for (const Finished& item : items) {
      auto it = tracked_.find(item.file);
      if (it == tracked_.end()) continue;
      bool was_frozen = it->second.offsets.frozen();
      it->second.offsets.finish(item.chunk, item.delivered);
      if (!was_frozen && it->second.offsets.frozen()) {
        log_.warn(fmt::format("lines of {} were not delivered; after a restart it is read again "
                              "from offset {}",
                              it->second.path, it->second.offsets.saved()));
      }
      dirty_ = true;
    }
    // A closed file is forgotten once nothing of it is in flight, unless it must be read again.
    for (auto it = tracked_.begin(); it != tracked_.end();) {
      const Tracked& t = it->second;
      bool done = forget_closed && !t.follower && !t.offsets.in_flight() && !t.offsets.frozen();
      it = done ? tracked_.erase(it) : std::next(it);
    }
  }

  void close_tracked(Follower& f) {
    auto it = tracked_.find(f.id);
    if (it == tracked_.end()) return;
    it->second.path = f.path();
    it->second.follower = nullptr;
  }

  // Writes the state file; the caller holds state_mutex.
  void save_locked() {
    if (state_path_.empty()) return;
    std::vector<SavedFile> files;
    for (auto& [id, t] : tracked_) {
      if (t.follower) t.path = t.follower->path();  // it may have been renamed
      files.push_back({t.path, static_cast<uint64_t>(t.dev), static_cast<uint64_t>(t.ino),
                       t.offsets.saved()});
    }
    std::string error;
    if (write_state(state_path_, files, error)) {
      dirty_ = false;
      save_error_reported_ = false;
    } else if (!save_error_reported_) {
      log_.warn(error + "; read offsets are not kept across restarts until it can be written");
      save_error_reported_ = true;
    }
  }

  Logger& log_;
  std::vector<std::string> files_;
  std::string path_tag_;
  std::string format_;
  std::unique_ptr<Parser> parser_;  // used by the following thread only
  std::string initial_;
  bool use_inotify_ = true;
  std::string state_dir_;
  std::string alias_;

  std::string state_path_;  // empty: offsets are not kept
  std::vector<SavedFile> saved_files_;  // what the state file held at start
  std::map<uint64_t, Tracked> tracked_;  // by Follower::id; the tail thread's (or stop's)
  uint64_t next_file_id_ = 0;
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();  // outlives the input
  bool dirty_ = false;
  bool save_error_reported_ = false;
  std::chrono::steady_clock::time_point last_save_;

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
