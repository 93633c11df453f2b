#include "eval/dataset.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "catalog/catalog.h"
#include "common/csv.h"
#include "decide/intent_rules.h"
#include "eval/baseline_rules.h"
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

template <typename Msg, typename Fn>
std::string ReadJsonl(const std::filesystem::path& path, Fn&& fn) {
  std::ifstream in(path);
  if (!in) return "cannot read " + path.string();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  std::string line;
  size_t line_no = 0;
  Msg msg;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    msg.Clear();
    if (!google::protobuf::util::JsonStringToMessage(line, &msg, options).ok()) {
      return path.string() + ":" + std::to_string(line_no) + ": not a valid " +
             msg.GetDescriptor()->name();
    }
    fn(msg);
  }
  return "";
}

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

std::string Dataset::Load(const std::string& dir, bool read_truth) {
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
  for (const char* split : kSplits) {
    const fs::path base = root / split;
    std::string error =
        ReadJsonl<v1::WebEvent>(base / "web-events.jsonl", [&](const v1::WebEvent& e) {
          web_by_anonymous_id[e.anonymous_id()].push_back(
              {ingest::TimestampToMillis(e.event_time()), e.event_type(), e.url_path(),
               e.search_query()});
          web_events_by_anonymous_id[e.anonymous_id()].push_back(ingest::ToSessionEvent(e));
          ++events_loaded;
        });
    if (!error.empty()) return error;
    error = ReadJsonl<v1::AppEvent>(base / "app-events.jsonl", [&](const v1::AppEvent& e) {
      app_by_customer[e.customer_id()].push_back(
          {ingest::TimestampToMillis(e.event_time()), e.action(), e.event_id(), e.screen(),
           TileIndex(e.tile_id()), e.product_code(), e.search_query()});
      app_events_by_customer[e.customer_id()].push_back(ingest::ToSessionEvent(e));
      ++events_loaded;
    });
    if (!error.empty()) return error;
    error =
        ReadJsonl<v1::IdentityLink>(base / "identity-links.jsonl", [&](const v1::IdentityLink& e) {
          const int64_t t = ingest::TimestampToMillis(e.event_time());
          auto [it, inserted] = links_by_customer[e.customer_id()].emplace(e.anonymous_id(), t);
          if (!inserted) it->second = std::min(it->second, t);
          ++events_loaded;
        });
    if (!error.empty()) return error;
    error = ReadJsonl<v1::CustomerProfile>(
        base / "customer-profiles.jsonl",
        [&](const v1::CustomerProfile& p) { profiles[p.customer_id()].push_back(p); });
    if (!error.empty()) return error;
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

double Log1p(double x) {
  return std::log1p(x);
}

// Fills one example's baseline features from the history before it.
void Featurize(const Dataset& data, const ExampleOptions& options,
               const v1::CustomerProfile* profile, const std::vector<AppFact>& app,
               size_t login_index, Example* ex) {
  std::vector<float>& f = ex->features;
  f.assign(kProfileFeatures + kAppFeatures + kWebFeatures, 0.0f);
  // Profile block.
  if (profile != nullptr) {
    const int age = std::clamp(static_cast<int>(profile->age_band()) - 1, 0, 5);
    const int income = std::clamp(static_cast<int>(profile->income_band()) - 1, 0, 4);
    f[static_cast<size_t>(age)] = 1;
    f[6 + static_cast<size_t>(income)] = 1;
    const uint32_t g = profile->credit_grade();
    f[11 + (g <= 3 ? 0u : g <= 6 ? 1u : g <= 8 ? 2u : 3u)] = 1;
    f[15 + static_cast<size_t>(std::clamp(static_cast<int>(profile->risk_appetite()) - 1, 0, 2))] =
        1;
    const uint32_t tenure = profile->tenure_months();
    f[18 + (tenure < 12 ? 0u : tenure < 60 ? 1u : 2u)] = 1;
    f[21] = profile->marketing_consent() ? 1 : 0;
    for (const auto& product : profile->products_held()) {
      if (product == "CURRENT_ACCOUNT") {
        f[34] = 1;
        continue;
      }
      for (const auto& spec : sim::Intents()) {
        if (spec.product_code == product) f[22 + static_cast<size_t>(spec.intent)] = 1;
      }
    }
    ex->segment = age * 5 + income;
  }
  // App block: the customer's own events in the window, before the LOGIN.
  const size_t a0 = kProfileFeatures;
  const int64_t from = ex->time_ms - options.window_ms;
  double sessions = 0, servicing = 0, starts = 0;
  std::array<double, sim::kIntentCount> clicks{}, dismissals{}, app_intent{};
  for (size_t i = login_index; i-- > 0;) {
    const AppFact& e = app[i];
    if (e.time_ms < from) break;
    switch (e.action) {
      case v1::APP_ACTION_LOGIN:
        ++sessions;
        break;
      case v1::APP_ACTION_TILE_CLICK:
        if (e.tile >= 0) ++clicks[static_cast<size_t>(e.tile)];
        break;
      case v1::APP_ACTION_TILE_DISMISS:
        if (e.tile >= 0) ++dismissals[static_cast<size_t>(e.tile)];
        break;
      case v1::APP_ACTION_APPLICATION_START:
        ++starts;
        break;
      case v1::APP_ACTION_BALANCE_CHECK:
      case v1::APP_ACTION_TRANSFER:
      case v1::APP_ACTION_PAYMENT:
        ++servicing;
        break;
      default:
        break;
    }
    std::optional<Intent> intent = IntentOfScreen(e.screen);
    if (!intent && !e.query.empty()) intent = IntentOfQuery(e.query);
    if (intent && e.action != v1::APP_ACTION_TILE_CLICK) ++app_intent[static_cast<size_t>(*intent)];
  }
  f[a0 + 0] = static_cast<float>(Log1p(sessions));
  f[a0 + 1] = static_cast<float>(Log1p(servicing));
  f[a0 + 2] = static_cast<float>(Log1p(starts));
  for (size_t k = 0; k < sim::kIntentCount; ++k) {
    f[a0 + 3 + k] = static_cast<float>(Log1p(clicks[k]));
    f[a0 + 15 + k] = static_cast<float>(Log1p(dismissals[k]));
    f[a0 + 27 + k] = static_cast<float>(Log1p(app_intent[k]));
  }
  // Web block: events of anonymous ids linked to this customer by now (their whole
  // history joins at the link, as in the processor's identity hand-off).
  const size_t w0 = kProfileFeatures + kAppFeatures;
  double web_events = 0, forms = 0, submits = 0, calculators = 0, downloads = 0;
  int64_t last_intent_ms = -1;
  std::array<double, sim::kIntentCount> pages{}, searches{};
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
        ++web_events;
        std::optional<Intent> intent;
        if (e->type == v1::WEB_EVENT_TYPE_SEARCH) {
          intent = IntentOfQuery(e->query);
          if (intent) ++searches[static_cast<size_t>(*intent)];
        } else {
          intent = IntentOfPath(e->url_path);
          if (intent) ++pages[static_cast<size_t>(*intent)];
        }
        switch (e->type) {
          case v1::WEB_EVENT_TYPE_FORM_START:
            ++forms;
            break;
          case v1::WEB_EVENT_TYPE_FORM_SUBMIT:
            ++submits;
            break;
          case v1::WEB_EVENT_TYPE_CALCULATOR_USE:
            ++calculators;
            break;
          case v1::WEB_EVENT_TYPE_DOWNLOAD:
            ++downloads;
            break;
          default:
            break;
        }
        if (intent) last_intent_ms = std::max(last_intent_ms, e->time_ms);
      }
    }
  }
  f[w0 + 0] = static_cast<float>(Log1p(web_events));
  for (size_t k = 0; k < sim::kIntentCount; ++k) {
    f[w0 + 1 + k] = static_cast<float>(Log1p(pages[k]));
    f[w0 + 13 + k] = static_cast<float>(Log1p(searches[k]));
  }
  f[w0 + 25] = static_cast<float>(Log1p(forms));
  f[w0 + 26] = static_cast<float>(Log1p(submits));
  f[w0 + 27] = static_cast<float>(Log1p(calculators));
  f[w0 + 28] = static_cast<float>(Log1p(downloads));
  f[w0 + 29] = last_intent_ms < 0
                   ? 0.0f
                   : static_cast<float>(std::exp(-(ex->time_ms - last_intent_ms) / (3.0 * kDayMs)));
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
      Featurize(data, options, profile, app, i, &ex);
      timelines.Visible(ex.customer_id, ex.time_ms, VisibleOptions(), &window);
      rules.Score(window, ex.time_ms, scores);
      const int top = rules.Label(scores).top;
      ex.teacher = top >= 0 ? to_world[static_cast<size_t>(top)] : Intent::kEverydayServicing;
      out.push_back(std::move(ex));
    }
  }
  return out;
}

}  // namespace intentstream::eval
