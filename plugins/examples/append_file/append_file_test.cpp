// outputs.append_file, driven directly: what it writes, and that it appends.
#include "append_file/append_file.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "test_support/check.hpp"

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main() {
  const std::string path = "append_file_test_output.txt";
  std::remove(path.c_str());
  sluice::Options o;
  o.set("path", path, true);

  sluice::Metric m("disk usage", 1'700'000'000'000'000'000);
  m.set_tag("host", "a b");
  m.set_tag("dev", "sda,1");
  m.set_field("used", int64_t{42});
  m.set_field("ratio", 0.25);
  m.set_field("free", uint64_t{7});
  m.set_field("ok", true);
  m.set_field("note", std::string("say \"hi\""));
  const std::string line =
      "disk\\ usage,dev=sda\\,1,host=a\\ b used=42i,ratio=0.25,free=7u,ok=true,note=\"say "
      "\\\"hi\\\"\" 1700000000000000000\n";

  {
    examples::AppendFile output(o);
    EXAMPLE_CHECK(output.connect().status == sluice::WriteResult::Status::kOk);
    sluice::Metric empty("nothing", 1);
    sluice::Batch batch{m, empty};
    EXAMPLE_CHECK(output.write(batch).status == sluice::WriteResult::Status::kOk);
    output.close();
  }
  EXAMPLE_CHECK(read(path) == line);
  {
    examples::AppendFile again(o);
    sluice::Batch batch{m};
    EXAMPLE_CHECK(again.write(batch).status == sluice::WriteResult::Status::kOk);
  }
  EXAMPLE_CHECK(read(path) == line + line);  // appended, not replaced

  sluice::Options nowhere;
  nowhere.set("path", std::string("/no/such/dir/file"), true);
  examples::AppendFile bad(nowhere);
  EXAMPLE_CHECK(bad.connect().status == sluice::WriteResult::Status::kRetry);
  std::remove(path.c_str());
  return examples::result("append_file");
}
