// Parameters of a synthetic world. Everything the generator draws depends only on
// these values: the same options give byte-identical records.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace intentstream::sim {

struct WorldOptions {
  // Seed of every random stream. Default: 1.
  uint64_t seed = 1;
  // Bank customers (have profiles, may log in, use the app). Default: 1000. >= 1.
  int64_t customers = 1000;
  // Anonymous web visitors who are not customers and never log in, as a multiple of
  // `customers`. Default: 0.5. >= 0.
  double prospect_ratio = 0.5;
  // Crawlers and scanners, as a multiple of `customers`. Default: 0.01. >= 0.
  double bot_ratio = 0.01;
  // Length of the world in days. Default: 30. 1..3650.
  int32_t days = 30;
  // Event time of the world's first instant, Unix milliseconds (UTC midnight).
  // Default: 2026-01-05T00:00:00Z.
  int64_t start_time_ms = 1767571200000;
  // Probability per day that a person without an active intent starts one. Default:
  // 0.03. In [0, 1].
  double intent_start_rate = 0.03;
  // Intents that may occur (taxonomy names). Empty = all. everyday_servicing is
  // always present. Unknown names fail validation.
  std::vector<std::string> intents;
  // Mean app sessions per day of an average app user. Default: 0.7. >= 0.
  double app_sessions_per_day = 0.7;
  // Mean web sessions per day of a person without an active intent. Default: 0.12.
  double web_sessions_per_day = 0.12;
  // Spread of per-person activity (sigma of a log-normal multiplier): heavy users.
  // Default: 0.8. In [0, 3].
  double activity_sigma = 0.8;
  // Stop after this many records (0 = no limit). Default: 0.
  int64_t max_records = 0;

  // Empty when valid; otherwise a message naming the offending option by its
  // command-line flag, e.g. "--customers must be >= 1 (got -5)".
  std::string Validate() const;
};

// The start time of a world of `days` days that ends at the last UTC midnight before
// `now_ms`: every event lies in the past (a processor rejects events ahead of its clock).
int64_t StartEndingAtLastMidnight(int64_t now_ms, int32_t days);

}  // namespace intentstream::sim
