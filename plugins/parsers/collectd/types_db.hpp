// collectd's types.db: the data-source names of each value type ("if_octets  rx:DERIVE:0:U,
// tx:DERIVE:0:U"), which name the values of a packet.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::parsers::collectd {

class TypesDb {
 public:
  // Reads one types.db text; a later definition of a type replaces an earlier one. Returns
  // false with `error` ("line N: ...") for a malformed line.
  bool load_text(std::string_view text, std::string* error);
  bool load_file(const std::string& path, std::string* error);

  // The data-source names of a type, or nullptr when the type is unknown.
  const std::vector<std::string>* names(std::string_view type) const;
  size_t size() const { return types_.size(); }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> types_;
};

}  // namespace sluice::parsers::collectd
