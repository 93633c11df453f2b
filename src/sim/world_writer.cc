#include "sim/world_writer.h"

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <system_error>

#include "intentstream/v1/events.pb.h"

namespace intentstream::sim {

namespace {
constexpr int64_t kDayMs = 86'400'000;

const char* FileName(Topic topic) {
  switch (topic) {
    case Topic::kWeb:
      return "web-events.jsonl";
    case Topic::kApp:
      return "app-events.jsonl";
    case Topic::kLink:
      return "identity-links.jsonl";
    case Topic::kProfile:
      return "customer-profiles.jsonl";
  }
  return "unknown.jsonl";
}

template <typename Msg>
bool ToJson(const std::string& bytes, std::string* json, Msg* msg) {
  if (!msg->ParseFromString(bytes)) return false;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;  // same names as the .proto and the docs
  json->clear();
  return google::protobuf::util::MessageToJsonString(*msg, json, options).ok();
}
}  // namespace

std::string SplitOptions::Resolve(const WorldOptions& world) {
  if (out_dir.empty()) return "--out is required";
  if (validation_start_day < 0) validation_start_day = world.days * 5 / 10;
  if (test_start_day < 0) test_start_day = std::max(validation_start_day, world.days * 7 / 10);
  if (validation_start_day > world.days) {
    return "--validation-start-day must be in [0, --days] (got " +
           std::to_string(validation_start_day) + ")";
  }
  if (test_start_day < validation_start_day || test_start_day > world.days) {
    return "--test-start-day must be in [--validation-start-day, --days] (got " +
           std::to_string(test_start_day) + ")";
  }
  return "";
}

std::unique_ptr<WorldWriter> WorldWriter::Open(const WorldOptions& world, const SplitOptions& split,
                                               std::string* error) {
  namespace fs = std::filesystem;
  std::unique_ptr<WorldWriter> w(new WorldWriter());
  w->split_start_ms_ = {world.start_time_ms,
                        world.start_time_ms + split.validation_start_day * kDayMs,
                        world.start_time_ms + split.test_start_day * kDayMs};
  const fs::path root(split.out_dir);
  auto fail = [&](const fs::path& path, const std::string& why) {
    *error = "--out: cannot write " + path.string() + ": " + why;
    return nullptr;
  };
  std::error_code ec;
  for (const auto name : kSplitNames) {
    fs::create_directories(root / name, ec);
    if (ec) return fail(root / name, ec.message());
  }
  fs::create_directories(root / "truth", ec);
  if (ec) return fail(root / "truth", ec.message());
  auto open = [&](std::ofstream& f, const fs::path& path) {
    f.open(path, std::ios::binary | std::ios::trunc);
    return f.is_open();
  };
  for (size_t s = 0; s < kSplitNames.size(); ++s) {
    for (size_t t = 0; t < kTopicCount; ++t) {
      const fs::path path = root / kSplitNames[s] / FileName(static_cast<Topic>(t));
      if (!open(w->files_[s][t], path)) return fail(path, "open failed");
    }
    const fs::path path = root / kSplitNames[s] / "examples.csv";
    if (!open(w->examples_[s], path)) return fail(path, "open failed");
    w->examples_[s] << "example_id,customer_id,time_ms\n";
  }
  if (!open(w->sessions_, root / "truth" / "sessions.csv"))
    return fail(root / "truth", "open failed");
  if (!open(w->conversions_, root / "truth" / "conversions.csv"))
    return fail(root / "truth", "open failed");
  if (!open(w->episodes_, root / "truth" / "episodes.csv"))
    return fail(root / "truth", "open failed");
  if (!open(w->home_visits_, root / "truth" / "home_visits.csv"))
    return fail(root / "truth", "open failed");
  w->home_visits_ << "customer_id,session_id,login_event_id,time_ms,arm,source,rank,offer_id,"
                     "intent,bank_propensity,clicked,dismissed,applied,converted\n";
  w->truth_dir_ = (root / "truth").string();
  w->sessions_ << "session_id,channel,visitor_id,customer_id,person_id,first_event_id,start_ms,"
                  "end_ms,events,intent,phase,bot,linked\n";
  w->conversions_ << "customer_id,event_id,time_ms,product_code,intent\n";
  w->episodes_ << "person_id,customer_id,intent,start_ms,end_ms,converted\n";

  std::ofstream props(root / "world.properties", std::ios::trunc);
  if (!props) return fail(root / "world.properties", "open failed");
  props << "# Public description of the world (no ground truth here).\n"
        << "seed=" << world.seed << "\ncustomers=" << world.customers
        << "\nprospect_ratio=" << world.prospect_ratio << "\nbot_ratio=" << world.bot_ratio
        << "\ndays=" << world.days << "\nstart_time_ms=" << world.start_time_ms
        << "\nvalidation_start_ms=" << w->split_start_ms_[1]
        << "\ntest_start_ms=" << w->split_start_ms_[2]
        << "\nend_time_ms=" << world.start_time_ms + world.days * kDayMs << "\n";
  if (!props) return fail(root / "world.properties", "write failed");
  return w;
}

WorldWriter::~WorldWriter() {
  std::string ignored;
  Close(&ignored);
}

size_t WorldWriter::SplitOf(int64_t time_ms) const {
  if (time_ms >= split_start_ms_[2]) return 2;
  if (time_ms >= split_start_ms_[1]) return 1;
  return 0;
}

void WorldWriter::EnterSplit(size_t split) {
  // A consumer of one split alone still sees every customer's profile (the topic
  // is compacted: a reader from the start of any period gets the latest values).
  while (current_split_ < split) {
    ++current_split_;
    auto& out = files_[current_split_][static_cast<size_t>(Topic::kProfile)];
    for (const auto& json : profiles_) out << json << '\n';
  }
}

bool WorldWriter::Write(const Record& record, std::string* error) {
  const size_t split = SplitOf(record.event_time_ms);
  if (split > current_split_) EnterSplit(split);
  bool ok = false;
  switch (record.topic) {
    case Topic::kWeb: {
      v1::WebEvent e;
      ok = ToJson(record.value, &json_, &e);
      break;
    }
    case Topic::kApp: {
      v1::AppEvent e;
      ok = ToJson(record.value, &json_, &e);
      if (ok && e.action() == v1::APP_ACTION_LOGIN) {
        examples_[split] << e.event_id() << ',' << e.customer_id() << ',' << record.event_time_ms
                         << '\n';
      }
      break;
    }
    case Topic::kLink: {
      v1::IdentityLink e;
      ok = ToJson(record.value, &json_, &e);
      break;
    }
    case Topic::kProfile: {
      v1::CustomerProfile e;
      ok = ToJson(record.value, &json_, &e);
      if (ok) {
        auto [it, inserted] = profile_index_.emplace(e.customer_id(), profiles_.size());
        if (inserted) {
          profiles_.push_back(json_);
        } else {
          profiles_[it->second] = json_;
        }
      }
      break;
    }
  }
  if (!ok) {
    *error = "cannot convert a " + std::string(TopicName(record.topic)) + " record to JSON";
    return false;
  }
  auto& out = files_[split][static_cast<size_t>(record.topic)];
  out << json_ << '\n';
  ++per_split_[split];
  if (!out) {
    *error = "--out: write failed (disk full?)";
    return false;
  }
  return true;
}

bool WorldWriter::Close(std::string* error) {
  bool ok = true;
  auto close = [&](std::ofstream& f) {
    if (!f.is_open()) return;
    f.flush();
    if (!f) ok = false;
    f.close();
  };
  for (auto& split : files_) {
    for (auto& f : split) close(f);
  }
  for (auto& f : examples_) close(f);
  close(sessions_);
  close(conversions_);
  close(episodes_);
  close(home_visits_);
  close(arms_);
  if (!ok) *error = "--out: write failed while closing files";
  return ok;
}

void WorldWriter::OnSession(const SessionTruth& s) {
  sessions_ << s.session_id << ',' << (s.web ? "web" : "app") << ',' << s.visitor_id << ','
            << s.customer_id << ',' << s.person_id << ',' << s.first_event_id << ',' << s.start_ms
            << ',' << s.end_ms << ',' << s.events << ',' << IntentName(s.intent) << ','
            << PhaseName(s.phase) << ',' << (s.bot ? 1 : 0) << ',' << (s.linked ? 1 : 0) << '\n';
}

void WorldWriter::OnConversion(const ConversionTruth& c) {
  conversions_ << c.customer_id << ',' << c.event_id << ',' << c.time_ms << ',' << c.product_code
               << ',' << IntentName(c.intent) << '\n';
}

void WorldWriter::OnEpisode(const EpisodeTruth& e) {
  episodes_ << e.person_id << ',' << e.customer_id << ',' << IntentName(e.intent) << ','
            << e.start_ms << ',' << e.end_ms << ',' << (e.converted ? 1 : 0) << '\n';
}

}  // namespace intentstream::sim

namespace intentstream::sim {

void WorldWriter::OnHomeVisit(const HomeVisitTruth& v) {
  for (size_t i = 0; i < v.tiles.size(); ++i) {
    const TileTruth& t = v.tiles[i];
    home_visits_ << v.customer_id << ',' << v.session_id << ',' << v.login_event_id << ','
                 << v.time_ms << ',' << ArmName(v.arm) << ',' << TileSourceName(v.source) << ','
                 << i + 1 << ',' << t.offer_id << ',' << IntentName(t.intent) << ','
                 << t.bank_propensity << ',' << (t.clicked ? 1 : 0) << ',' << (t.dismissed ? 1 : 0)
                 << ',' << (t.applied ? 1 : 0) << ',' << (t.converted ? 1 : 0) << '\n';
  }
}

void WorldWriter::OnArm(std::string_view customer_id, Arm arm) {
  if (!arms_.is_open()) {
    // Closed-loop worlds only: an open-loop world's truth stays as it was.
    arms_.open(truth_dir_ + "/arms.csv", std::ios::binary | std::ios::trunc);
    arms_ << "customer_id,arm\n";
  }
  arms_ << customer_id << ',' << ArmName(arm) << '\n';
}

}  // namespace intentstream::sim
