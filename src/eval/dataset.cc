#include "eval/dataset.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalog/catalog.h"
#include "eval/login_features.h"
#include "eval/teacher.h"
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

// Reads one JSON-lines file of protobuf messages, one record at a time.
template <typename Msg>
class JsonlStream {
 public:
  explicit JsonlStream(const std::filesystem::path& path) : path_(path), in_(path) {
    options_.ignore_unknown_fields = true;
  }
  bool ok() const { return static_cast<bool>(in_) || done_; }
  // Advances to the next message; false at the end of the file. `error` is set when a
  // line does not parse.
  bool Next(std::string* error) {
    std::string line;
    while (std::getline(in_, line)) {
      ++line_no_;
      if (line.empty()) continue;
      msg_.Clear();
      if (!google::protobuf::util::JsonStringToMessage(line, &msg_, options_).ok()) {
        *error = path_.string() + ":" + std::to_string(line_no_) + ": not a valid " +
                 msg_.GetDescriptor()->name();
        done_ = true;
        return false;
      }
      return true;
    }
    done_ = true;
    return false;
  }
  const Msg& message() const { return msg_; }

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  google::protobuf::util::JsonParseOptions options_;
  Msg msg_;
  size_t line_no_ = 0;
  bool done_ = false;
};

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  for (char c : line) {
    if (c == ',') {
      out.push_back(cell);
      cell.clear();
    } else if (c != '\r') {
      cell.push_back(c);
    }
  }
  out.push_back(cell);
  return out;
}

}  // namespace

int Dataset::SplitOf(int64_t time_ms) const {
  if (time_ms >= split_start_ms[2]) return 2;
  if (time_ms >= split_start_ms[1]) return 1;
  return 0;
}

std::string Dataset::Load(const std::string& dir, const DecisionPointFn& on_login) {
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
          ++events_loaded;
          replay.Web(e);
          break;
        }
        default: {
          const auto& e = app_in.message();
          app_by_customer[e.customer_id()].push_back({head[3], e.action(), e.event_id(), e.screen(),
                                                      TileIndex(e.tile_id()), e.product_code(),
                                                      e.search_query()});
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
  std::ifstream sessions(root / "truth" / "sessions.csv");
  if (!sessions) return "--data: cannot read " + (root / "truth" / "sessions.csv").string();
  std::string line;
  std::getline(sessions, line);  // header
  while (std::getline(sessions, line)) {
    const auto cells = SplitCsv(line);
    if (cells.size() < 13) return "truth/sessions.csv: malformed line: " + line;
    if (cells[1] != "app") continue;
    const auto intent = sim::IntentFromName(cells[9]);
    if (!intent) return "truth/sessions.csv: unknown intent " + cells[9];
    app_session_intent[cells[5]] = *intent;
  }
  return "";
}

namespace {

// The teacher's label and the segment from the history before the LOGIN (the features
// come from the replayed state: Dataset::login_features).
void LabelExample(const Dataset& data, const ExampleOptions& options,
                  const v1::CustomerProfile* profile, const std::vector<AppFact>& app,
                  size_t login_index, Example* ex) {
  Teacher teacher;
  if (profile != nullptr) {
    const int age = std::clamp(static_cast<int>(profile->age_band()) - 1, 0, 5);
    const int income = std::clamp(static_cast<int>(profile->income_band()) - 1, 0, 4);
    ex->segment = age * 5 + income;
  }
  // The customer's own events in the window, before the LOGIN.
  const int64_t from = ex->time_ms - options.window_ms;
  for (size_t i = login_index; i-- > 0;) {
    const AppFact& e = app[i];
    if (e.time_ms < from) break;
    if (e.action == v1::APP_ACTION_TILE_CLICK && e.tile >= 0) {
      teacher.Vote(static_cast<Intent>(e.tile), 2.0);
    }
    std::optional<Intent> intent = IntentOfScreen(e.screen);
    if (!intent && !e.query.empty()) intent = IntentOfQuery(e.query);
    if (intent && e.action != v1::APP_ACTION_TILE_CLICK) teacher.Vote(*intent, 1.0);
  }
  // Events of anonymous ids linked to this customer by now (their whole history joins
  // at the link, as in the processor's identity hand-off).
  if (auto links = data.links_by_customer.find(ex->customer_id);
      links != data.links_by_customer.end()) {
    for (const auto& [anonymous_id, link_ms] : links->second) {
      if (link_ms > ex->time_ms) continue;
      auto it = data.web_by_anonymous_id.find(anonymous_id);
      if (it == data.web_by_anonymous_id.end()) continue;
      const auto& events = it->second;
      auto end = std::lower_bound(events.begin(), events.end(), ex->time_ms,
                                  [](const WebFact& e, int64_t t) { return e.time_ms < t; });
      for (auto e = end; e != events.begin();) {
        --e;
        if (e->time_ms < from) break;
        std::optional<Intent> intent = e->type == v1::WEB_EVENT_TYPE_SEARCH
                                           ? IntentOfQuery(e->query)
                                           : IntentOfPath(e->url_path);
        const bool strong =
            e->type == v1::WEB_EVENT_TYPE_FORM_START || e->type == v1::WEB_EVENT_TYPE_FORM_SUBMIT ||
            e->type == v1::WEB_EVENT_TYPE_CALCULATOR_USE || e->type == v1::WEB_EVENT_TYPE_DOWNLOAD;
        if (intent) teacher.Vote(*intent, strong ? 2.0 : 1.0);
      }
    }
  }
  ex->teacher = teacher.Label();
}

}  // namespace

std::vector<Example> BuildExamples(const Dataset& data, const ExampleOptions& options) {
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
      LabelExample(data, options, profile, app, i, &ex);
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
