#include "eval/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "catalog/catalog.h"
#include "common/csv.h"
#include "common/jsonl.h"
#include "decide/intent_rules.h"
#include "eval/baseline_rules.h"
#include "eval/login_features.h"
#include "eval/timelines.h"
#include "ingest/session_event.h"

namespace intentstream::eval {

namespace {

using sim::Intent;
constexpr const char* kSplits[] = {"train", "validation", "test"};

int TileIndex(std::string_view tile_id) {
  const auto intent = sim::IntentFromTile(tile_id);
  return intent ? static_cast<int>(*intent) : -1;
}

int TileOfProduct(std::string_view product) {
  if (product.empty()) return -1;
  for (const auto& spec : sim::Intents()) {
    if (spec.product_code == product) return static_cast<int>(spec.intent);
  }
  return -1;
}

// One JSON-lines file of protobuf messages, read one record at a time; a line that
// does not parse ends the file with an error (a world file is written by the generator:
// a bad line means the wrong directory or a truncated copy, not one stray record).
template <typename Msg>
class JsonlStream {
 public:
  explicit JsonlStream(const std::filesystem::path& path) : reader_(path.string(), path.string()) {}
  bool ok() const { return reader_.is_open(); }
  // Advances to the next message; false at the end of the file or at a bad line, which
  // sets `error`.
  bool Next(std::string* error) {
    if (done_) return false;
    if (reader_.Next(error) == jsonl::MessageReader<Msg>::Status::kMessage) return true;
    done_ = true;
    return false;
  }
  const Msg& message() const { return reader_.message(); }

 private:
  jsonl::MessageReader<Msg> reader_;
  bool done_ = false;
};

// Each record of a truth CSV file after its header: `fn(fields)` returns "" or an error.
// Errors name the file and line.
template <typename Fn>
std::string ReadCsvRecords(const std::filesystem::path& path, const std::string& name,
                           size_t min_fields, Fn&& fn) {
  std::ifstream in(path);
  if (!in) return "--data: cannot read " + path.string();
  csv::Reader reader(in);
  csv::Record record;
  std::string error;
  bool header = true;
  while (true) {
    const auto status = reader.Next(&record, &error);
    if (status == csv::Reader::Status::kEnd) return "";
    const std::string where = name + ":" + std::to_string(record.line) + ": ";
    if (status == csv::Reader::Status::kMalformed) return where + error;
    if (header) {
      header = false;
      continue;
    }
    if (record.fields.size() < min_fields) {
      return where + "expected at least " + std::to_string(min_fields) + " fields, got " +
             std::to_string(record.fields.size());
    }
    if (std::string e = fn(record.fields); !e.empty()) return where + e;
  }
}

}  // namespace

int Dataset::SplitOf(int64_t time_ms) const {
  if (time_ms >= split_start_ms[2]) return 2;
  if (time_ms >= split_start_ms[1]) return 1;
  return 0;
}

std::string Dataset::Load(const std::string& dir, const DecisionPointFn& on_login,
                          bool read_truth) {
  namespace fs = std::filesystem;
  const fs::path root(dir);
  {
    std::ifstream props(root / "world.properties");
    if (!props) return "--data: cannot read " + (root / "world.properties").string();
    std::string line;
    while (std::getline(props, line)) {
      const size_t eq = line.find('=');
      if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
      const std::string key = line.substr(0, eq);
      const int64_t value = std::atoll(line.c_str() + eq + 1);
      if (key == "start_time_ms") start_ms = split_start_ms[0] = value;
      if (key == "validation_start_ms") split_start_ms[1] = value;
      if (key == "test_start_ms") split_start_ms[2] = value;
      if (key == "end_time_ms") end_ms = value;
    }
  }
  const LoginFeatureBuilder features(catalog::DefaultCatalog());
  WorldReplay replay;
  const DecisionPointFn on_point = [&](const DecisionPoint& point) {
    login_features[point.login->event_id()] = features.Build(point);
    if (on_login) on_login(point);
  };
  for (const char* split : kSplits) {
    const fs::path base = root / split;
    JsonlStream<v1::CustomerProfile> profile_in(base / "customer-profiles.jsonl");
    JsonlStream<v1::IdentityLink> link_in(base / "identity-links.jsonl");
    JsonlStream<v1::WebEvent> web_in(base / "web-events.jsonl");
    JsonlStream<v1::AppEvent> app_in(base / "app-events.jsonl");
    for (const auto& [ok, name] : {std::pair{profile_in.ok(), "customer-profiles.jsonl"},
                                   {link_in.ok(), "identity-links.jsonl"},
                                   {web_in.ok(), "web-events.jsonl"},
                                   {app_in.ok(), "app-events.jsonl"}}) {
      if (!ok) return "cannot read " + (base / name).string();
    }
    // The four files are each in event-time order: merge them as the processor's
    // event-time scheduling orders a task's partitions. Ties: profiles, links, web, app.
    constexpr int64_t kEnd = INT64_MAX;
    std::string error;
    int64_t head[4];
    auto advance = [&](int i) {
      bool more = false;
      switch (i) {
        case 0:
          more = profile_in.Next(&error);
          head[0] = more ? ingest::TimestampToMillis(profile_in.message().updated_time()) : kEnd;
          break;
        case 1:
          more = link_in.Next(&error);
          head[1] = more ? ingest::TimestampToMillis(link_in.message().event_time()) : kEnd;
          break;
        case 2:
          more = web_in.Next(&error);
          head[2] = more ? ingest::TimestampToMillis(web_in.message().event_time()) : kEnd;
          break;
        default:
          more = app_in.Next(&error);
          head[3] = more ? ingest::TimestampToMillis(app_in.message().event_time()) : kEnd;
          break;
      }
    };
    for (int i = 0; i < 4; ++i) advance(i);
    for (;;) {
      if (!error.empty()) return error;
      const int i = static_cast<int>(std::min_element(head, head + 4) - head);
      if (head[i] == kEnd) break;
      switch (i) {
        case 0: {
          const auto& p = profile_in.message();
          profiles[p.customer_id()].push_back(p);
          replay.Profile(p);
          break;
        }
        case 1: {
          const auto& e = link_in.message();
          auto [it, inserted] =
              links_by_customer[e.customer_id()].emplace(e.anonymous_id(), head[1]);
          if (!inserted) it->second = std::min(it->second, head[1]);
          ++events_loaded;
          replay.Link(e);
          break;
        }
        case 2: {
          const auto& e = web_in.message();
          web_by_anonymous_id[e.anonymous_id()].push_back(
              {head[2], e.event_type(), e.url_path(), e.search_query()});
          web_events_by_anonymous_id[e.anonymous_id()].push_back(ingest::ToSessionEvent(e));
          ++events_loaded;
          replay.Web(e);
          break;
        }
        default: {
          const auto& e = app_in.message();
          app_by_customer[e.customer_id()].push_back({head[3], e.action(), e.event_id(), e.screen(),
                                                      TileIndex(e.tile_id()), e.product_code(),
                                                      e.search_query()});
          app_events_by_customer[e.customer_id()].push_back(ingest::ToSessionEvent(e));
          ++events_loaded;
          replay.App(e, on_point);
          break;
        }
      }
      advance(i);
    }
  }
  for (auto& [id, list] : profiles) {
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return ingest::TimestampToMillis(a.updated_time()) <
             ingest::TimestampToMillis(b.updated_time());
    });
  }
  // Files are in event-time order already; sort anyway, a hand-made file may not be.
  for (auto& [id, list] : web_by_anonymous_id) {
    std::stable_sort(list.begin(), list.end(),
                     [](const WebFact& a, const WebFact& b) { return a.time_ms < b.time_ms; });
  }
  for (auto& [id, list] : app_by_customer) {
    std::stable_sort(list.begin(), list.end(),
                     [](const AppFact& a, const AppFact& b) { return a.time_ms < b.time_ms; });
  }
  const auto by_time_and_key = [](const v1::SessionEvent& a, const v1::SessionEvent& b) {
    return a.time_ms() != b.time_ms() ? a.time_ms() < b.time_ms() : a.event_key() < b.event_key();
  };
  for (auto* events : {&web_events_by_anonymous_id, &app_events_by_customer}) {
    for (auto& [id, list] : *events) std::sort(list.begin(), list.end(), by_time_and_key);
  }
  if (!read_truth) return "";
  const auto truth = root / "truth";
  std::string error = ReadCsvRecords(truth / "sessions.csv", "truth/sessions.csv", 13,
                                     [&](const std::vector<std::string>& cells) -> std::string {
                                       if (cells[1] != "app") return "";
                                       const auto intent = sim::IntentFromName(cells[9]);
                                       if (!intent) return "unknown intent " + cells[9];
                                       app_session_intent[cells[5]] = *intent;
                                       return "";
                                     });
  if (!error.empty()) return error;
  // Episodes that converted, by (customer, end time): the conversion's episode.
  std::map<std::pair<std::string, int64_t>, int64_t> converted_start;
  error = ReadCsvRecords(
      truth / "episodes.csv", "truth/episodes.csv", 6,
      [&](const std::vector<std::string>& cells) -> std::string {
        if (cells[5] != "1" || cells[1].empty()) return "";
        converted_start[{cells[1], std::atoll(cells[4].c_str())}] = std::atoll(cells[3].c_str());
        return "";
      });
  if (!error.empty()) return error;
  error =
      ReadCsvRecords(truth / "conversions.csv", "truth/conversions.csv", 5,
                     [&](const std::vector<std::string>& cells) -> std::string {
                       const auto intent = sim::IntentFromName(cells[4]);
                       if (!intent) return "unknown intent " + cells[4];
                       Conversion c{cells[0], std::atoll(cells[2].c_str()), *intent, 0};
                       const auto it = converted_start.find({c.customer_id, c.time_ms});
                       if (it == converted_start.end() || c.intent == Intent::kEverydayServicing)
                         return "";
                       c.episode_start_ms = it->second;
                       conversions.push_back(std::move(c));
                       return "";
                     });
  if (!error.empty()) return error;
  return "";
}

namespace {

// The segment for the segment rules (the features come from the replayed state:
// Dataset::login_features; the teacher's label from the taxonomy's rules).
void SegmentOf(const v1::CustomerProfile* profile, Example* ex) {
  if (profile != nullptr) {
    const int age = std::clamp(static_cast<int>(profile->age_band()) - 1, 0, 5);
    const int income = std::clamp(static_cast<int>(profile->income_band()) - 1, 0, 4);
    ex->segment = age * 5 + income;
  }
}

}  // namespace

std::vector<Example> BuildExamples(const Dataset& data, const ExampleOptions& options) {
  // The teacher's label at each LOGIN: the taxonomy's rules over what the state holds
  // then (the same code as the processor's rule scorer), in the world's intent order.
  const auto catalog = catalog::DefaultCatalog();
  const decide::RuleIntentScorer rules(std::make_shared<decide::IntentMatcher>(catalog));
  std::vector<Intent> to_world;
  for (const auto& in : catalog->intents()) {
    to_world.push_back(sim::IntentFromName(in.id).value_or(Intent::kEverydayServicing));
  }
  const Timelines timelines(data);
  std::vector<const v1::SessionEvent*> window;
  std::vector<float> scores(catalog->intents().size());
  // Deterministic order: customers sorted by id, events by time.
  std::vector<const std::string*> customers;
  customers.reserve(data.app_by_customer.size());
  for (const auto& [id, events] : data.app_by_customer) customers.push_back(&id);
  std::sort(customers.begin(), customers.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  std::vector<Example> out;
  for (const std::string* customer : customers) {
    const auto& app = data.app_by_customer.at(*customer);
    const auto profiles = data.profiles.find(*customer);
    for (size_t i = 0; i < app.size(); ++i) {
      if (app[i].action != v1::APP_ACTION_LOGIN) continue;
      Example ex;
      ex.id = app[i].event_id;
      ex.customer_id = *customer;
      ex.time_ms = app[i].time_ms;
      ex.split = data.SplitOf(ex.time_ms);
      ex.conversion_observed = ex.time_ms + options.horizon_ms <= data.end_ms;
      if (auto it = data.app_session_intent.find(ex.id); it != data.app_session_intent.end()) {
        ex.intent = it->second;
      }
      // This session's tiles: from the LOGIN to the next LOGIN.
      for (size_t j = i + 1; j < app.size() && app[j].action != v1::APP_ACTION_LOGIN; ++j) {
        const AppFact& e = app[j];
        if (e.action == v1::APP_ACTION_TILE_IMPRESSION && e.tile >= 0) {
          ex.impressions.emplace_back(e.tile, false);
        } else if (e.action == v1::APP_ACTION_TILE_CLICK && e.tile >= 0) {
          for (auto& [tile, clicked] : ex.impressions) {
            if (tile == e.tile) clicked = true;
          }
          if (ex.clicked_tile < 0) ex.clicked_tile = e.tile;
        }
      }
      for (size_t j = i + 1; j < app.size() && app[j].time_ms <= ex.time_ms + options.horizon_ms;
           ++j) {
        if (app[j].action == v1::APP_ACTION_APPLICATION_COMPLETE) {
          ex.converted_tile = TileOfProduct(app[j].product_code);
          if (ex.converted_tile >= 0) break;
        }
      }
      const v1::CustomerProfile* profile = nullptr;
      if (profiles != data.profiles.end()) {
        for (const auto& p : profiles->second) {
          if (ingest::TimestampToMillis(p.updated_time()) <= ex.time_ms || profile == nullptr) {
            profile = &p;
          }
        }
      }
      SegmentOf(profile, &ex);
      timelines.Visible(ex.customer_id, ex.time_ms, VisibleOptions(), &window);
      rules.Score(window, ex.time_ms, scores);
      const int top = rules.Label(scores).top;
      ex.teacher = top >= 0 ? to_world[static_cast<size_t>(top)] : Intent::kEverydayServicing;
      if (const auto f = data.login_features.find(ex.id); f != data.login_features.end()) {
        ex.app_features = &f->second.app;
        ex.web_features = &f->second.web;
      }
      out.push_back(std::move(ex));
    }
  }
  return out;
}

}  // namespace intentstream::eval
