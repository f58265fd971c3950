// outputs.append_file: appends every metric to a file as InfluxDB line protocol, one line per
// metric. The file is opened on connect (a failure is retried) and flushed after each write.
#pragma once

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <variant>

#include "sluice/plugin.hpp"

namespace examples {

inline const sluice::OptionSpec kAppendFileOptions[] = {
    {"path", sluice::OptionType::kString, "", "The file the metrics are appended to", true},
};

// Line protocol for one metric: what the output writes, kept apart to be tested on its own.
inline void append_line(const sluice::Metric& m, std::string& out) {
  auto escape = [&](std::string_view s, std::string_view specials) {
    for (char c : s) {
      if (specials.find(c) != std::string_view::npos) out += '\\';
      out += c;
    }
  };
  escape(m.name(), ", ");
  for (const sluice::TagRef t : m.tags()) {
    out += ',';
    escape(t.key, ",= ");
    out += '=';
    escape(t.value, ",= ");
  }
  char number[32];
  bool first = true;
  for (const sluice::FieldRef f : m.fields()) {
    out += first ? ' ' : ',';
    first = false;
    escape(f.key, ",= ");
    out += '=';
    if (const double* d = std::get_if<double>(&f.value)) {
      out.append(number, std::to_chars(number, number + sizeof number, *d).ptr);
    } else if (const int64_t* i = std::get_if<int64_t>(&f.value)) {
      out.append(number, std::to_chars(number, number + sizeof number, *i).ptr);
      out += 'i';
    } else if (const uint64_t* u = std::get_if<uint64_t>(&f.value)) {
      out.append(number, std::to_chars(number, number + sizeof number, *u).ptr);
      out += 'u';
    } else if (const bool* b = std::get_if<bool>(&f.value)) {
      out += *b ? "true" : "false";
    } else {
      out += '"';
      escape(std::get<std::string>(f.value), "\"\\");
      out += '"';
    }
  }
  out += ' ';
  out.append(number, std::to_chars(number, number + sizeof number, m.time()).ptr);
  out += '\n';
}

class AppendFile final : public sluice::Output {
 public:
  explicit AppendFile(const sluice::Options& options) : path_(options.get_string("path")) {
    if (path_.empty()) throw sluice::OptionError("path", "give the file to append to");
  }
  ~AppendFile() override { close(); }

  sluice::WriteResult connect() override {
    if (file_ == nullptr) file_ = std::fopen(path_.c_str(), "a");
    if (file_ == nullptr) return sluice::WriteResult::retry("cannot open " + path_);
    return sluice::WriteResult::ok();
  }

  sluice::WriteResult write(std::span<const sluice::Metric> batch) override {
    if (sluice::WriteResult r = connect(); r.status != sluice::WriteResult::Status::kOk) return r;
    text_.clear();
    for (const sluice::Metric& m : batch) {
      if (!m.fields().empty()) append_line(m, text_);  // a metric without fields has no line
    }
    if (std::fwrite(text_.data(), 1, text_.size(), file_) != text_.size() ||
        std::fflush(file_) != 0) {
      return sluice::WriteResult::retry("cannot write " + path_);
    }
    return sluice::WriteResult::ok();
  }

  void close() override {
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::string text_;
};

}  // namespace examples
