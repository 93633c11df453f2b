// A generated world read back from disk (sim::WorldWriter's layout), and the
// decision points ("examples") the evaluation scores: every app LOGIN. At a LOGIN
// the homepage tiles are about to be ranked, so a model may use only what happened
// before it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "eval/replay.h"
#include "intentstream/v1/events.pb.h"
#include "intentstream/v1/state.pb.h"
#include "sim/catalog.h"

namespace intentstream::eval {

inline constexpr int64_t kDayMs = 86'400'000;

// The compact parts of events that features and labels need.
struct WebFact {
  int64_t time_ms = 0;
  v1::WebEventType type = v1::WEB_EVENT_TYPE_UNSPECIFIED;
  std::string url_path;
  std::string query;
};
struct AppFact {
  int64_t time_ms = 0;
  v1::AppAction action = v1::APP_ACTION_UNSPECIFIED;
  std::string event_id;
  std::string screen;
  int tile = -1;  // intent index of the tile, -1 if none
  std::string product_code;
  std::string query;
};

// decide::FeatureBuilder's profile then session features at one decision point.
struct LoginFeatures {
  std::vector<float> app;  // from the customer's own events only (no hand-offs)
  std::vector<float> web;  // from the processor's state, linked web history included
};

struct Dataset {
  int64_t start_ms = 0;
  std::array<int64_t, 3> split_start_ms{};  // train, validation, test
  int64_t end_ms = 0;
  std::unordered_map<std::string, std::vector<WebFact>> web_by_anonymous_id;
  std::unordered_map<std::string, std::vector<AppFact>> app_by_customer;
  // The same events as the processor keeps them (ingest::ToSessionEvent), ascending by
  // (time_ms, event_key): what the teachers, the intent head and timelines.h read.
  std::unordered_map<std::string, std::vector<v1::SessionEvent>> web_events_by_anonymous_id;
  std::unordered_map<std::string, std::vector<v1::SessionEvent>> app_events_by_customer;
  // customer -> (anonymous id -> first link time)
  std::unordered_map<std::string, std::unordered_map<std::string, int64_t>> links_by_customer;
  // customer -> profiles ascending by updated_time
  std::unordered_map<std::string, std::vector<v1::CustomerProfile>> profiles;
  // Truth: latent intent of an app session, by its LOGIN event id.
  std::unordered_map<std::string, sim::Intent> app_session_intent;
  // Truth: completed applications that ended an intent episode (truth/conversions.csv
  // joined with truth/episodes.csv), for the lead-time measure; impulse conversions
  // (no episode) are left out.
  struct Conversion {
    std::string customer_id;
    int64_t time_ms = 0;
    sim::Intent intent = sim::Intent::kEverydayServicing;
    int64_t episode_start_ms = 0;
  };
  std::vector<Conversion> conversions;
  uint64_t events_loaded = 0;

  // Per app LOGIN (by event id): the features decide::FeatureBuilder gives at that
  // decision point, from the replayed processor state (login_features.h).
  std::unordered_map<std::string, LoginFeatures> login_features;

  // Reads <dir>/world.properties, the three splits (records in event-time order,
  // replayed through the processor's state code, eval/replay.h) and, with `read_truth`,
  // truth/*.csv (a teacher loads without the truth, which it must never see).
  // `on_login`, if set, sees every decision point as well. Returns an empty string on
  // success, else a readable error naming the file.
  std::string Load(const std::string& dir, const DecisionPointFn& on_login = {},
                   bool read_truth = true);
  // Split index (0 train, 1 validation, 2 test) of an event time.
  int SplitOf(int64_t time_ms) const;
};

struct Example {
  std::string id;  // the LOGIN event id
  std::string customer_id;
  int64_t time_ms = 0;
  int split = 0;
  // Labels.
  sim::Intent intent = sim::Intent::kEverydayServicing;  // latent (truth)
  std::vector<std::pair<int, bool>> impressions;         // (tile, clicked) in this session
  int clicked_tile = -1;    // first tile clicked in this session, -1 if none
  int converted_tile = -1;  // tile of the first product completed within the horizon
  // False when the horizon runs past the end of the data (label censored): such
  // examples are left out of conversion training and conversion metrics.
  bool conversion_observed = true;
  // Observable inputs.
  // The rule teacher's label from what the state holds at the LOGIN (decision time).
  sim::Intent teacher = sim::Intent::kEverydayServicing;
  int segment = 0;  // age band x income band, for the segment rules
  // decide::FeatureBuilder's profile then session features: from the customer's own
  // (app) events only, and from the processor's state with the linked web history.
  const std::vector<float>* app_features = nullptr;
  const std::vector<float>* web_features = nullptr;
};

struct ExampleOptions {
  int64_t window_ms = 14 * kDayMs;  // history the teacher sees
  int64_t horizon_ms = 7 * kDayMs;  // conversion label horizon
};

// Examples point into data.login_features: `data` must outlive them.
std::vector<Example> BuildExamples(const Dataset& data, const ExampleOptions& options);

}  // namespace intentstream::eval
