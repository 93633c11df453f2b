// Fuzz target: the configuration parser. The input is written to a temporary file and
// read as a `key = value` file (ReadKeyValueLines), as the processor's --config file
// (LoadProcessorOptions: properties, the option table, cross-field validation), and
// line by line as --set assignments.
//
// Invariants: bad configuration is a ConfigError naming a key, never another exception
// or a crash; a file that ReadKeyValueLines accepts holds only the keys it returned.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/config.h"
#include "fuzz_check.h"
#include "runtime/options.h"

namespace {

// One temporary file per process, removed at exit.
class ScratchFile {
 public:
  ScratchFile() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "intentstream-fuzz-config-XXXXXX").string();
    const int fd = mkstemp(tmpl.data());
    if (fd < 0) std::abort();
    close(fd);
    path_ = tmpl;
  }
  ~ScratchFile() { std::remove(path_.c_str()); }
  const std::string& Write(const uint8_t* data, size_t size) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path_;
  }

 private:
  std::string path_;
};

void ExpectOnlyConfigErrors(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const intentstream::ConfigError& e) {
    const std::string what = e.what();
    FUZZ_CHECK(what.rfind("configuration key '", 0) == 0, what);
  }
  // Any other exception escapes: libFuzzer reports it as a crash.
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace intentstream;
  static ScratchFile scratch;
  const std::string& path = scratch.Write(data, size);

  std::map<std::string, std::string> lines;
  std::string error;
  if (ReadKeyValueLines(path, &lines, &error)) {
    FUZZ_CHECK(error.empty(), error);
    for (const auto& [k, v] : lines) {
      FUZZ_CHECK(k.find('\n') == std::string::npos && v.find('\n') == std::string::npos, k);
    }
  } else {
    FUZZ_CHECK(error.rfind(path, 0) == 0 || error.rfind("cannot read", 0) == 0, error);
  }

  ExpectOnlyConfigErrors([&] { runtime::LoadProcessorOptions(path, {}); });
  // Embedded, so validation goes on past the bootstrap-servers rule.
  ExpectOnlyConfigErrors([&] { runtime::LoadProcessorOptions(path, {"embedded=true"}); });

  std::vector<std::string> assignments{"embedded=true"};
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  for (std::string line; std::getline(in, line) && assignments.size() < 64;) {
    assignments.push_back(line);
  }
  ExpectOnlyConfigErrors([&] { runtime::LoadProcessorOptions("", assignments); });
  return 0;
}
