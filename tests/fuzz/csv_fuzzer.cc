// Fuzz target: the CSV reader (common/csv.h) that training and evaluation data files go
// through. The first byte picks the delimiter and a small record bound; the rest is the
// file.
//
// Invariants: reading always ends (every Next() consumes input or reports the end); line
// numbers never go backwards; no record exceeds the bound; a malformed record says why.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "common/csv.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char delimiters[] = {',', ';', '\t', '|'};
  const char delimiter = delimiters[data[0] % 4];
  const size_t max_bytes = 16 + (data[0] >> 2) * 64;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  intentstream::csv::Reader reader(in, delimiter, max_bytes);
  intentstream::csv::Record record;
  std::string error;
  int64_t last_line = 0;
  for (size_t calls = 0;; ++calls) {
    FUZZ_CHECK(calls <= size + 1, "Next() does not make progress");
    const auto status = reader.Next(&record, &error);
    if (status == intentstream::csv::Reader::Status::kEnd) break;
    FUZZ_CHECK(record.line >= last_line, "line numbers go backwards");
    last_line = record.line;
    if (status == intentstream::csv::Reader::Status::kMalformed) {
      FUZZ_CHECK(!error.empty(), "a malformed record without a reason");
      continue;
    }
    size_t bytes = 0;
    for (const auto& f : record.fields) bytes += f.size();
    FUZZ_CHECK(bytes <= max_bytes, "a record over the bound");
  }
  return 0;
}
