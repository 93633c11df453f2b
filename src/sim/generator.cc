#include "sim/generator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "intentstream/v1/events.pb.h"
#include "sim/random.h"

namespace intentstream::sim {

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kSecondMs = 1000;
constexpr int kTilesShown = 3;
// Days of intent dynamics simulated before day 0, so the world starts mid-stream
// (some people already deep in an episode) instead of everyone starting cold.
constexpr int kWarmupDays = 30;
constexpr size_t kCurrentAccountBit = kIntentCount;  // product bits: one per intent, then this

enum class PersonKind : uint8_t { kCustomer, kProspect, kBot };

struct Cookie {
  v1::Device device = v1::DEVICE_DESKTOP;
  uint32_t generation = 0;
  std::string id;
  bool used = false;
  bool linked = false;
};

// Everything the generator remembers about one person between days.
struct Person {
  uint32_t index = 0;
  PersonKind kind = PersonKind::kCustomer;
  std::string id;  // customer id, or a person id for prospects and bots
  double activity = 1;
  v1::AgeBand age = v1::AGE_BAND_35_44;
  v1::IncomeBand income = v1::INCOME_BAND_MIDDLE;
  uint32_t tenure_months = 0;
  v1::RiskAppetite risk = v1::RISK_APPETITE_MEDIUM;
  uint32_t credit_grade = 5;
  bool consent = true;
  const char* gender = "undisclosed";
  bool opted_out_email = false;
  bool opted_out_push = false;
  uint32_t products = 0;  // bit per intent product, plus kCurrentAccountBit
  bool app_user = false;
  v1::Device app_device = v1::DEVICE_IOS_APP;
  std::string app_device_id;
  std::vector<Cookie> cookies;
  // Latent intent episode.
  bool in_episode = false;
  Intent intent = Intent::kEverydayServicing;
  int32_t episode_start_day = 0;
  int32_t episode_days = 0;
  int64_t episode_start_ms = 0;
  bool applied = false;             // applied in this episode (success or not)
  bool web_form_submitted = false;  // continues the application in the app
  bool counted_app_user = false;
  int64_t busy_until_ms = 0;  // end of the last session (may run past midnight)
};

bool Holds(const Person& p, Intent i) {
  return (p.products >> static_cast<size_t>(i)) & 1u;
}

void SetTime(google::protobuf::Timestamp* ts, int64_t ms) {
  ts->set_seconds(ms / 1000);
  ts->set_nanos(static_cast<int32_t>((ms % 1000) * 1000000));
}

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string PaddedId(char prefix, uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%c%09llu", prefix, static_cast<unsigned long long>(n));
  return buf;
}

// "/credit-cards/travel-rewards" -> "Travel rewards | Bank".
std::string TitleOf(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  std::string title(path.substr(slash == std::string_view::npos ? 0 : slash + 1));
  if (title.empty()) return "Home | Bank";
  for (char& c : title) {
    if (c == '-') c = ' ';
  }
  title[0] = static_cast<char>(title[0] - 'a' + 'A');
  return title + " | Bank";
}

std::string SearchPath(std::string_view query) {
  std::string path = "/search?q=";
  for (char c : query) path.push_back(c == ' ' ? '+' : c);
  return path;
}

// Share of events of a session drawn from its intent's pages, by phase.
double OnIntentShare(Phase phase) {
  switch (phase) {
    case Phase::kResearch:
      return 0.7;
    case Phase::kConsider:
      return 0.8;
    case Phase::kDecide:
      return 0.8;
    case Phase::kNone:
      return 0.0;
  }
  return 0.0;
}

// Hour-of-day weights: web browsing peaks in the evening, app use morning and evening.
constexpr double kWebHours[24] = {0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.5, 1.8, 2.0, 2.0,
                                  2.2, 2.0, 1.9, 1.9, 2.0, 2.2, 2.6, 3.0, 3.2, 2.8, 1.8, 0.8};
constexpr double kAppHours[24] = {0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 1.2, 2.6, 3.0, 2.2, 1.8, 1.8,
                                  2.4, 2.0, 1.6, 1.6, 1.9, 2.4, 2.8, 2.8, 2.6, 2.0, 1.2, 0.5};

int64_t TimeInDay(Rng& rng, const double (&hours)[24]) {
  const size_t hour = rng.Weighted(hours);
  return static_cast<int64_t>(hour) * 3'600'000 + static_cast<int64_t>(rng.Below(3'600'000));
}

// Probability that each index is among the first `k` draws of weighted sampling
// without replacement (the bank's tile policy): exact, by walking every ordered draw
// (at most 12 x 11 x 10 paths).
std::array<double, kIntentCount> InclusionProbabilities(std::array<double, kIntentCount> w, int k) {
  std::array<double, kIntentCount> out{};
  auto walk = [&](auto&& self, double prob, int depth) -> void {
    if (depth == k) return;
    double total = 0;
    for (double x : w) total += x;
    if (total <= 0) return;
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i] <= 0) continue;
      const double p = prob * w[i] / total;
      out[i] += p;
      const double saved = w[i];
      w[i] = 0;
      self(self, p, depth + 1);
      w[i] = saved;
    }
  };
  walk(walk, 1.0, 0);
  return out;
}

}  // namespace

std::string_view TileSourceName(TileSource source) {
  switch (source) {
    case TileSource::kBank:
      return "bank";
    case TileSource::kProcessor:
      return "processor";
    case TileSource::kMiss:
      return "miss";
    case TileSource::kRejected:
      return "rejected";
    case TileSource::kOracle:
      return "oracle";
  }
  return "bank";
}

std::string_view TopicName(Topic topic) {
  switch (topic) {
    case Topic::kWeb:
      return "web-events";
    case Topic::kApp:
      return "app-events";
    case Topic::kLink:
      return "identity-links";
    case Topic::kProfile:
      return "customer-profiles";
  }
  return "unknown";
}

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kNone:
      return "none";
    case Phase::kResearch:
      return "research";
    case Phase::kConsider:
      return "consider";
    case Phase::kDecide:
      return "decide";
  }
  return "none";
}

class Generator::Impl {
 public:
  Impl(const WorldOptions& options, TruthSink* truth, const ClosedLoopOptions& loop);
  bool Next(Record* out);
  int32_t current_day() const { return day_; }
  int32_t days() const { return options_.days; }
  const WorldStats& stats() const { return stats_; }
  const std::vector<HomeVisit>& waiting() const { return waiting_; }
  void Answer(size_t i, std::vector<ShownTile> tiles, TileSource source);
  bool IsCustomer(std::string_view id) const;
  const ClosedLoopOptions& closed_loop() const { return loop_; }

 private:
  struct Pending {
    int64_t time_ms;
    uint64_t seq;
    Record record;
  };
  struct Planned {
    int64_t start;
    int kind;  // 0 web, 1 app, 2 bot
  };
  // One tile of a homepage: the offer and the intent the response model sees in it.
  struct Tile {
    Intent intent = Intent::kEverydayServicing;
    std::string offer_id;
    std::string tile_id;
  };
  // An app session between its home screen and the tiles' responses.
  struct AppVisit {
    SessionTruth truth;
    int64_t t = 0;  // event time after the home screen's impressions
    int64_t home_ms = 0;
    Phase phase = Phase::kNone;
    std::array<Intent, kTilesShown> bank{};  // what the bank's policy drew
    int bank_count = 0;
    std::array<double, kIntentCount> bank_propensity{};  // by intent
    uint32_t home_dwell = 0;
  };
  // One person's day: the planned sessions, run step by step in a closed loop.
  struct DayCursor {
    uint32_t person;
    Rng rng;
    std::vector<Planned> plan;
    size_t next = 0;
    int64_t free_at = 0;
    int session = 0;
    bool done = false;
    std::optional<AppVisit> visit;  // suspended, waiting for tiles
    bool answered = false;
    std::vector<ShownTile> answer;
    TileSource source = TileSource::kBank;
  };

  void BuildPeople();
  void Advance();
  void AdvanceClosedLoop();
  void Release(int64_t cutoff);
  void GenerateDay(int32_t day);
  DayCursor OpenDay(Person& p, int32_t day);
  // Runs the cursor's sessions that start before `until`; stops early at an app
  // session that waits for the processor's tiles (cursor.visit set).
  void RunCursor(DayCursor& c, int32_t day, int64_t until);
  void StepIntent(Person& p, int32_t day, Rng& rng, bool warmup);
  void EndEpisode(Person& p, int64_t end_ms, bool converted, bool warmup);
  Phase PhaseOf(const Person& p, int32_t day) const;
  double Affinity(const Person& p, Intent i) const;
  uint64_t TotalConversions() const {
    uint64_t n = 0;
    for (uint64_t c : stats_.conversions) n += c;
    return n;
  }
  double Eligibility(const Person& p, Intent i) const;
  bool TileEligible(const Person& p, Intent i) const;
  int64_t WebSession(Person& p, int64_t t, Phase phase, Rng& rng);
  int64_t BotSession(Person& p, int64_t t, int32_t day, int session, Rng& rng);
  AppVisit BeginAppSession(Person& p, int64_t t, Phase phase, Rng& rng);
  int64_t FinishAppSession(Person& p, AppVisit& v, const std::vector<Tile>& tiles,
                           TileSource source, Rng& rng);
  std::vector<Tile> BankTiles(const AppVisit& v) const;
  std::vector<Tile> OracleTiles(const Person& p, const AppVisit& v) const;
  int64_t Apply(Person& p, Intent product, int64_t t, Rng& rng, uint32_t* events);
  void RenewCookie(Person& p, Cookie& cookie);
  std::string NewSessionId();

  template <typename Msg>
  std::string Emit(Topic topic, std::string key, int64_t time_ms, uint32_t type, Msg* msg);
  void EmitLink(Person& p, Cookie& cookie, int64_t time_ms, v1::LinkMethod method);
  void EmitProfile(const Person& p, int64_t time_ms);
  v1::AppEvent AppBase(const Person& p, int64_t time_ms, v1::AppAction action,
                       std::string_view screen, uint32_t dwell_ms);

  WorldOptions options_;
  TruthSink* truth_;
  ClosedLoopOptions loop_;
  std::vector<Arm> arms_;  // by person index (customers), closed loop only
  std::vector<DayCursor> cursors_;
  bool day_open_ = false;
  int64_t step_end_ = 0;
  std::vector<HomeVisit> waiting_;
  std::vector<size_t> waiting_cursor_;
  std::array<bool, kIntentCount> enabled_{};
  std::string salt_;  // makes event ids of different seeds disjoint
  std::vector<Person> people_;
  std::vector<Pending> pending_;
  std::vector<Record> ready_;
  size_t ready_pos_ = 0;
  int32_t day_ = 0;
  bool finished_ = false;
  uint64_t seq_ = 0;
  uint64_t session_seq_ = 0;
  uint64_t emitted_ = 0;
  WorldStats stats_;
};

Generator::Impl::Impl(const WorldOptions& options, TruthSink* truth, const ClosedLoopOptions& loop)
    : options_(options), truth_(truth), loop_(loop) {
  if (const std::string error = options_.Validate(); !error.empty()) {
    throw std::invalid_argument(error);
  }
  if (loop_.enabled) {
    if (const std::string error = loop_.Validate(); !error.empty()) {
      throw std::invalid_argument(error);
    }
  }
  if (options_.intents.empty()) {
    enabled_.fill(true);
  } else {
    for (const auto& name : options_.intents)
      enabled_[static_cast<size_t>(*IntentFromName(name))] = true;
  }
  enabled_[static_cast<size_t>(Intent::kEverydayServicing)] = true;
  salt_ = Hex64(MixSeed({options_.seed, 0x5a17})).substr(0, 8);
  BuildPeople();
  if (loop_.enabled) {
    arms_.resize(people_.size(), Arm::kBank);
    for (const auto& p : people_) {
      if (p.kind != PersonKind::kCustomer) continue;
      arms_[p.index] = ArmOf(p.id, options_.seed, loop_);
      if (truth_) truth_->OnArm(p.id, arms_[p.index]);
    }
  }
  // The compacted profile topic starts with every customer's profile.
  for (const auto& p : people_) {
    if (p.kind == PersonKind::kCustomer) EmitProfile(p, options_.start_time_ms);
  }
}

void Generator::Impl::BuildPeople() {
  const auto customers = static_cast<uint64_t>(options_.customers);
  const auto prospects = static_cast<uint64_t>(std::llround(options_.prospect_ratio * customers));
  const auto bots = static_cast<uint64_t>(std::llround(options_.bot_ratio * customers));
  people_.resize(customers + prospects + bots);
  for (uint64_t i = 0; i < people_.size(); ++i) {
    Person& p = people_[i];
    Rng rng(MixSeed({options_.seed, 0xB0B, i}));
    p.index = static_cast<uint32_t>(i);
    if (i < customers) {
      p.kind = PersonKind::kCustomer;
      p.id = PaddedId('C', i + 1);
    } else if (i < customers + prospects) {
      p.kind = PersonKind::kProspect;
      p.id = PaddedId('P', i - customers + 1);
    } else {
      p.kind = PersonKind::kBot;
      p.id = PaddedId('B', i - customers - prospects + 1);
    }
    const double sigma = options_.activity_sigma;
    p.activity = rng.LogNormal(-sigma * sigma / 2, sigma);  // mean 1, long right tail
    static constexpr double kAge[] = {0.12, 0.2, 0.2, 0.18, 0.15, 0.15};
    p.age = static_cast<v1::AgeBand>(1 + rng.Weighted(kAge));
    const int age_idx = static_cast<int>(p.age) - 1;
    // Income rises with age until retirement.
    double income_w[5] = {0.25, 0.25, 0.25, 0.15, 0.1};
    if (age_idx == 0) {
      income_w[0] = 0.5, income_w[3] = 0.05, income_w[4] = 0.02;
    } else if (age_idx >= 2 && age_idx <= 4) {
      income_w[3] = 0.25, income_w[4] = 0.18;
    }
    p.income = static_cast<v1::IncomeBand>(1 + rng.Weighted(income_w));
    const uint32_t max_tenure = 12u * (4u + 8u * static_cast<uint32_t>(age_idx));
    p.tenure_months = static_cast<uint32_t>(rng.Below(max_tenure + 1));
    static constexpr double kRisk[] = {0.35, 0.45, 0.2};
    p.risk = static_cast<v1::RiskAppetite>(1 + rng.Weighted(kRisk));
    const double grade =
        6.5 - 0.7 * (static_cast<int>(p.income) - 1) - 0.3 * age_idx + 1.5 * rng.Normal();
    p.credit_grade = static_cast<uint32_t>(std::clamp(std::lround(grade), 1l, 10l));
    p.consent = rng.Chance(0.7);
    p.opted_out_email = rng.Chance(0.15);
    p.opted_out_push = rng.Chance(0.2);
    const double g = rng.Uniform();
    p.gender = g < 0.49 ? "female" : g < 0.98 ? "male" : "undisclosed";
    if (p.kind == PersonKind::kCustomer) {
      auto hold = [&](Intent intent, double prob) {
        if (rng.Chance(prob)) p.products |= 1u << static_cast<size_t>(intent);
      };
      if (rng.Chance(0.95)) p.products |= 1u << kCurrentAccountBit;
      hold(Intent::kEverydayServicing, 0.3);
      hold(Intent::kEmergencySavings, 0.35);
      hold(Intent::kHomeBuying, age_idx >= 1 ? 0.3 + 0.05 * age_idx : 0.0);
      hold(Intent::kRetirementInvesting, age_idx >= 3 ? 0.25 : 0.05);
      hold(Intent::kAutoLoan, 0.08);
      hold(Intent::kSmallBusiness, 0.05);
      hold(Intent::kTravelRewards, p.income >= v1::INCOME_BAND_UPPER_MIDDLE ? 0.2 : 0.04);
      hold(Intent::kBalanceTransfer, 0.04);
      p.app_user = rng.Chance(age_idx >= 5 ? 0.6 : 0.88);
      p.app_device = rng.Chance(0.55) ? v1::DEVICE_IOS_APP : v1::DEVICE_ANDROID_APP;
      p.app_device_id = "d-" + Hex64(MixSeed({options_.seed, 0xD1CE, i}));
    }
    // Web devices: a bot keeps none (new cookie every session).
    if (p.kind != PersonKind::kBot) {
      static constexpr double kDeviceCount[] = {0.45, 0.4, 0.15};
      const int devices = 1 + static_cast<int>(rng.Weighted(kDeviceCount));
      static constexpr v1::Device kWebDevices[] = {v1::DEVICE_DESKTOP, v1::DEVICE_MOBILE_WEB,
                                                   v1::DEVICE_TABLET};
      const size_t first = rng.Chance(0.55) ? 1 : 0;
      for (int d = 0; d < devices; ++d) {
        Cookie cookie;
        cookie.device = kWebDevices[(first + static_cast<size_t>(d)) % 3];
        p.cookies.push_back(cookie);
        RenewCookie(p, p.cookies.back());
      }
    }
    // Warm up the latent intents so the world starts mid-stream.
    for (int32_t day = -kWarmupDays; day < 0; ++day) {
      Rng day_rng(MixSeed({options_.seed, 0x1D7, i, static_cast<uint64_t>(day)}));
      StepIntent(p, day, day_rng, /*warmup=*/true);
    }
    // Episodes carried into day 0 count as episodes of the world (their conversions do).
    if (p.in_episode) ++stats_.episodes[static_cast<size_t>(p.intent)];
  }
}

void Generator::Impl::RenewCookie(Person& p, Cookie& cookie) {
  const size_t slot = static_cast<size_t>(&cookie - p.cookies.data());
  cookie.id = "a-" + Hex64(MixSeed({options_.seed, 0xC00C1E, p.index, slot, cookie.generation}));
  ++cookie.generation;
  cookie.used = false;
  cookie.linked = false;
}

std::string Generator::Impl::NewSessionId() {
  return "s-" + salt_ + "-" + std::to_string(session_seq_++);
}

template <typename Msg>
std::string Generator::Impl::Emit(Topic topic, std::string key, int64_t time_ms, uint32_t type,
                                  Msg* msg) {
  // "<source>-<seed salt>-<sequence>": unique within a world, disjoint across seeds.
  static constexpr std::string_view kPrefix[] = {"web-", "app-", "link-", "profile-"};
  std::string event_id;
  if constexpr (!std::is_same_v<Msg, v1::CustomerProfile>) {
    event_id =
        std::string(kPrefix[static_cast<size_t>(topic)]) + salt_ + "-" + std::to_string(seq_);
    msg->set_event_id(event_id);
    SetTime(msg->mutable_event_time(), time_ms);
  }
  Pending pending{time_ms, seq_++, {}};
  pending.record.topic = topic;
  pending.record.key = std::move(key);
  pending.record.event_time_ms = time_ms;
  pending.record.event_type = type;
  msg->SerializeToString(&pending.record.value);
  pending_.push_back(std::move(pending));
  return event_id;
}

void Generator::Impl::EmitLink(Person& p, Cookie& cookie, int64_t time_ms, v1::LinkMethod method) {
  v1::IdentityLink link;
  link.set_anonymous_id(cookie.id);
  link.set_customer_id(p.id);
  link.set_method(method);
  Emit(Topic::kLink, cookie.id, time_ms, static_cast<uint32_t>(method), &link);
  if (!cookie.linked) {
    cookie.linked = true;
    ++stats_.linked_anonymous_ids;
  }
}

void Generator::Impl::EmitProfile(const Person& p, int64_t time_ms) {
  v1::CustomerProfile profile;
  profile.set_customer_id(p.id);
  SetTime(profile.mutable_updated_time(), time_ms);
  profile.set_age_band(p.age);
  profile.set_income_band(p.income);
  const int64_t months_in = (time_ms - options_.start_time_ms) / (30 * kDayMs);
  profile.set_tenure_months(p.tenure_months +
                            static_cast<uint32_t>(std::max<int64_t>(0, months_in)));
  if ((p.products >> kCurrentAccountBit) & 1u) profile.add_products_held("CURRENT_ACCOUNT");
  for (const auto& spec : Intents()) {
    if (Holds(p, spec.intent) && !spec.product_code.empty()) {
      profile.add_products_held(std::string(spec.product_code));
    }
  }
  profile.set_marketing_consent(p.consent);
  if (p.opted_out_email) profile.add_opted_out_channels("email");
  if (p.opted_out_push) profile.add_opted_out_channels("push");
  profile.set_risk_appetite(p.risk);
  profile.set_credit_grade(p.credit_grade);
  profile.mutable_monitoring()->set_gender(p.gender);
  Emit(Topic::kProfile, p.id, time_ms, 0, &profile);
}

v1::AppEvent Generator::Impl::AppBase(const Person& p, int64_t, v1::AppAction action,
                                      std::string_view screen, uint32_t dwell_ms) {
  v1::AppEvent e;
  e.set_customer_id(p.id);
  e.set_device_id(p.app_device_id);
  e.set_device(p.app_device);
  e.set_action(action);
  e.set_screen(std::string(screen));
  e.set_dwell_ms(dwell_ms);
  return e;
}

double Generator::Impl::Affinity(const Person& p, Intent i) const {
  const int age = static_cast<int>(p.age) - 1;  // 0 = 18-24 .. 5 = 65+
  const int income = static_cast<int>(p.income) - 1;
  const bool customer = p.kind == PersonKind::kCustomer;
  if (customer && !Spec(i).product_code.empty() && Holds(p, i)) return 0;
  switch (i) {
    case Intent::kHomeBuying:
      if (Holds(p, Intent::kHomeBuying)) return 0;
      return (age == 1 || age == 2 ? 3.0
              : age == 0           ? 0.5
              : age >= 4           ? 0.2
                                   : 1.0) *
             (income >= 2 ? 1.5 : 0.7);
    case Intent::kRefinancing:
      return customer && Holds(p, Intent::kHomeBuying) ? 4.0 : (customer ? 0 : 0.3);
    case Intent::kTravelRewards:
      return income >= 3 ? 2.0 : income == 2 ? 1.0 : 0.5;
    case Intent::kBalanceTransfer:
      return (Holds(p, Intent::kEverydayServicing) ? 2.0 : 1.0) * (income <= 2 ? 1.5 : 0.7);
    case Intent::kBuildingCredit:
      return (p.credit_grade >= 6 ? 3.0 : 0.3) * (age == 0 ? 2.0 : 1.0);
    case Intent::kEmergencySavings:
      return 1.0;
    case Intent::kRetirementInvesting:
      return (age >= 3   ? 3.0
              : age == 0 ? 0.2
                         : 0.8) *
             (p.risk == v1::RISK_APPETITE_HIGH ? 1.5 : 1.0);
    case Intent::kAutoLoan:
      return age == 5 ? 0.4 : 1.0;
    case Intent::kStudentLoan:
      return age == 0 ? 5.0 : age == 1 ? 0.5 : 0.05;
    case Intent::kSmallBusiness:
      return age >= 1 && age <= 3 ? 1.5 : 0.5;
    case Intent::kFraudConcern:
      return age == 5 ? 1.5 : 1.0;
    case Intent::kEverydayServicing:
      return 0;
  }
  return 0;
}

double Generator::Impl::Eligibility(const Person& p, Intent i) const {
  const Intent target = i;
  double e = 0.9;
  if (Spec(target).credit_product) {
    const uint32_t g = p.credit_grade;
    e = g <= 3 ? 0.85 : g <= 6 ? 0.6 : g <= 8 ? 0.35 : 0.15;
  }
  if (target == Intent::kHomeBuying || target == Intent::kRefinancing) {
    e *= p.income == v1::INCOME_BAND_LOW            ? 0.3
         : p.income == v1::INCOME_BAND_LOWER_MIDDLE ? 0.6
                                                    : 1.0;
  }
  if (target == Intent::kBuildingCredit) e = 0.85;
  return e;
}

bool Generator::Impl::TileEligible(const Person& p, Intent i) const {
  if (!enabled_[static_cast<size_t>(i)]) return false;
  if (!Spec(i).product_code.empty() && Holds(p, i)) return false;
  switch (i) {
    case Intent::kHomeBuying:
      return !Holds(p, Intent::kHomeBuying);
    case Intent::kRefinancing:
      return Holds(p, Intent::kHomeBuying);
    case Intent::kStudentLoan:
      return p.age <= v1::AGE_BAND_25_34;
    default:
      return true;
  }
}

Phase Generator::Impl::PhaseOf(const Person& p, int32_t day) const {
  if (!p.in_episode) return Phase::kNone;
  const double elapsed = (day - p.episode_start_day + 0.5) / p.episode_days;
  return elapsed < 0.4 ? Phase::kResearch : elapsed < 0.8 ? Phase::kConsider : Phase::kDecide;
}

void Generator::Impl::EndEpisode(Person& p, int64_t end_ms, bool converted, bool warmup) {
  if (!p.in_episode) return;
  p.in_episode = false;
  p.web_form_submitted = false;
  if (warmup || truth_ == nullptr) return;
  EpisodeTruth e;
  e.person_id = p.id;
  if (p.kind == PersonKind::kCustomer) e.customer_id = p.id;
  e.intent = p.intent;
  e.start_ms = p.episode_start_ms;
  e.end_ms = end_ms;
  e.converted = converted;
  truth_->OnEpisode(e);
}

void Generator::Impl::StepIntent(Person& p, int32_t day, Rng& rng, bool warmup) {
  if (p.kind == PersonKind::kBot) return;
  const int64_t day_start = options_.start_time_ms + static_cast<int64_t>(day) * kDayMs;
  if (p.in_episode && day >= p.episode_start_day + p.episode_days) {
    EndEpisode(p, day_start, /*converted=*/false, warmup);
  }
  if (!p.in_episode && rng.Chance(options_.intent_start_rate)) {
    std::array<double, kIntentCount> weights{};
    double total = 0;
    for (const auto& spec : Intents()) {
      const size_t k = static_cast<size_t>(spec.intent);
      if (enabled_[k]) weights[k] = spec.popularity * Affinity(p, spec.intent);
      total += weights[k];
    }
    if (total > 0) {
      const auto intent = static_cast<Intent>(rng.Weighted(weights));
      p.in_episode = true;
      p.intent = intent;
      p.episode_start_day = day;
      p.episode_days =
          static_cast<int32_t>(rng.Range(Spec(intent).min_days, Spec(intent).max_days));
      p.episode_start_ms = day_start;
      p.applied = false;
      p.web_form_submitted = false;
      if (!warmup) ++stats_.episodes[static_cast<size_t>(intent)];
    }
  }
  // Rarely, a customer changes marketing consent: a profile update.
  if (!warmup && p.kind == PersonKind::kCustomer && rng.Chance(0.002)) {
    p.consent = !p.consent;
    EmitProfile(p, day_start + TimeInDay(rng, kAppHours));
  }
}

Generator::Impl::DayCursor Generator::Impl::OpenDay(Person& p, int32_t day) {
  const int64_t day_start = options_.start_time_ms + static_cast<int64_t>(day) * kDayMs;
  DayCursor c{p.index,
              Rng(MixSeed({options_.seed, 0x1D7, p.index, static_cast<uint64_t>(day)})),
              {},
              0,
              0,
              0,
              false,
              std::nullopt,
              false,
              {},
              TileSource::kBank};
  Rng& rng = c.rng;
  StepIntent(p, day, rng, /*warmup=*/false);
  if (p.kind == PersonKind::kBot) {
    const int n = rng.Poisson(1.5);
    for (int s = 0; s < n; ++s)
      c.plan.push_back({day_start + static_cast<int64_t>(rng.Below(kDayMs)), 2});
  } else {
    double web_rate = options_.web_sessions_per_day * std::sqrt(p.activity);
    const Phase phase = PhaseOf(p, day);
    if (p.in_episode) {
      web_rate += phase == Phase::kResearch ? 0.5 : phase == Phase::kConsider ? 0.6 : 0.4;
    }
    const int web = rng.Poisson(web_rate);
    for (int s = 0; s < web; ++s) c.plan.push_back({day_start + TimeInDay(rng, kWebHours), 0});
    if (p.app_user) {
      const int app = rng.Poisson(options_.app_sessions_per_day * p.activity);
      for (int s = 0; s < app; ++s) c.plan.push_back({day_start + TimeInDay(rng, kAppHours), 1});
    }
  }
  std::sort(c.plan.begin(), c.plan.end(),
            [](const Planned& a, const Planned& b) { return a.start < b.start; });
  c.free_at = p.busy_until_ms;
  return c;
}

void Generator::Impl::RunCursor(DayCursor& c, int32_t day, int64_t until) {
  Person& p = people_[c.person];
  // One thing at a time: a session starts after the previous one ended.
  while (c.next < c.plan.size()) {
    const Planned& s = c.plan[c.next];
    const int64_t start = std::max(s.start, c.free_at + 30 * kSecondMs);
    if (start >= until) return;
    ++c.next;
    if (s.kind == 0) {
      c.free_at = WebSession(p, start, PhaseOf(p, day), c.rng);
    } else if (s.kind == 1) {
      AppVisit v = BeginAppSession(p, start, PhaseOf(p, day), c.rng);
      const Arm arm = loop_.enabled ? arms_[p.index] : Arm::kBank;
      if (DecidedByProcessor(arm) && loop_.enabled) {
        c.visit = std::move(v);
        c.answered = false;
        ++c.session;
        return;
      }
      if (arm == Arm::kOracle) {
        c.free_at = FinishAppSession(p, v, OracleTiles(p, v), TileSource::kOracle, c.rng);
      } else {
        c.free_at = FinishAppSession(p, v, BankTiles(v), TileSource::kBank, c.rng);
      }
    } else {
      c.free_at = BotSession(p, start, day, c.session, c.rng);
    }
    ++c.session;
  }
  p.busy_until_ms = c.free_at;
  c.done = true;
}

void Generator::Impl::GenerateDay(int32_t day) {
  for (Person& p : people_) {
    DayCursor c = OpenDay(p, day);
    RunCursor(c, day, std::numeric_limits<int64_t>::max());
  }
}

int64_t Generator::Impl::BotSession(Person& p, int64_t t, int32_t day, int session, Rng& rng) {
  SessionTruth truth;
  truth.session_id = NewSessionId();
  truth.web = true;
  truth.visitor_id =
      "a-" + Hex64(MixSeed({options_.seed, 0xB07, p.index, static_cast<uint64_t>(day),
                            static_cast<uint64_t>(session)}));
  truth.person_id = p.id;
  truth.bot = true;
  truth.intent = Intent::kEverydayServicing;
  truth.start_ms = t;
  ++stats_.anonymous_ids;
  const bool scanner = rng.Chance(0.4);
  const int n = scanner ? static_cast<int>(rng.Range(3, 15)) : static_cast<int>(rng.Range(10, 60));
  for (int i = 0; i < n; ++i) {
    v1::WebEvent e;
    e.set_anonymous_id(truth.visitor_id);
    e.set_event_type(v1::WEB_EVENT_TYPE_PAGE_VIEW);
    std::string path;
    if (scanner) {
      path = JunkPaths()[rng.Below(JunkPaths().size())];
    } else {
      // Crawlers walk the whole site, uniformly: no popularity skew.
      const auto& spec = Intents()[rng.Below(kIntentCount)];
      path = spec.pages[rng.Below(spec.pages.size())];
    }
    e.set_url_path(path);
    e.set_dwell_ms(static_cast<uint32_t>(rng.Below(300)));
    e.set_device(rng.Chance(0.7) ? v1::DEVICE_DESKTOP : v1::DEVICE_OTHER);
    e.set_channel("direct");
    Emit(Topic::kWeb, truth.visitor_id, t, e.event_type(), &e);
    ++truth.events;
    t += 100 + static_cast<int64_t>(rng.Below(1500));
  }
  truth.end_ms = t;
  ++stats_.bot_sessions;
  ++stats_.web_sessions;
  if (truth_) truth_->OnSession(truth);
  return t;
}

int64_t Generator::Impl::WebSession(Person& p, int64_t t, Phase phase, Rng& rng) {
  Cookie* cookie = &p.cookies[rng.Chance(0.6) ? 0 : rng.Below(p.cookies.size())];
  if (rng.Chance(0.03)) RenewCookie(p, *cookie);  // cleared cookies, private windows
  if (!cookie->used) {
    cookie->used = true;
    ++stats_.anonymous_ids;
  }
  const bool customer = p.kind == PersonKind::kCustomer;
  const bool active = p.in_episode;
  const Intent focus = active ? p.intent : Intent::kEverydayServicing;
  const IntentSpec& spec = Spec(focus);

  SessionTruth truth;
  truth.session_id = NewSessionId();
  truth.web = true;
  truth.visitor_id = cookie->id;
  truth.customer_id = customer ? p.id : "";
  truth.person_id = p.id;
  truth.intent = focus;
  truth.phase = phase;
  truth.start_ms = t;
  const bool tag_session_id = rng.Chance(0.9);  // some tags do not send one

  // Marketing channel, referrer and campaign.
  static constexpr std::string_view kChannels[] = {"organic", "paid_search", "email",   "social",
                                                   "display", "direct",      "referral"};
  static constexpr std::string_view kReferrers[] = {
      "https://search.example/", "https://search.example/ads", "",
      "https://social.example/", "https://news.example/",      "",
      "https://compare.example/"};
  double channel_w[7] = {0.3, 0.05, 0.05, 0.05, 0.02, 0.5, 0.03};
  if (active) {
    channel_w[0] = 0.35, channel_w[1] = 0.22, channel_w[2] = 0.08, channel_w[3] = 0.1;
    channel_w[4] = 0.05, channel_w[5] = 0.12, channel_w[6] = 0.08;
  }
  if (!customer || !p.consent) channel_w[2] = 0;
  const size_t channel = rng.Weighted(channel_w);
  std::string campaign;
  if (channel >= 1 && channel <= 4) campaign = std::string(spec.slug) + "_2026q1";

  auto page_event = [&](v1::WebEventType type, const std::string& path, uint32_t dwell_ms) {
    v1::WebEvent e;
    e.set_anonymous_id(cookie->id);
    if (tag_session_id) e.set_session_id(truth.session_id);
    e.set_event_type(type);
    e.set_url_path(path);
    e.set_referrer(
        std::string(truth.events == 0 ? kReferrers[channel] : "https://www.bank.example/"));
    e.set_page_title(path.rfind("/search", 0) == 0 ? "Search | Bank" : TitleOf(path));
    e.set_dwell_ms(dwell_ms);
    e.set_device(cookie->device);
    e.set_channel(std::string(kChannels[channel]));
    e.set_utm_campaign(campaign);
    return e;
  };
  auto emit = [&](v1::WebEvent* e, int64_t when) {
    Emit(Topic::kWeb, cookie->id, when, static_cast<uint32_t>(e->event_type()), e);
    ++truth.events;
  };

  if (channel == 2 && customer && rng.Chance(0.7)) {
    EmitLink(p, *cookie, t, v1::LINK_METHOD_EMAIL_CLICK);  // personalised link
    truth.linked = true;
  }

  const double mean_pages = active ? 5.0 : 2.5;
  int pages = rng.Chance(active ? 0.15 : 0.35) ? 1 : 1 + rng.Geometric(1.0 / mean_pages);
  pages = std::min(pages, 40);
  const double on_intent = OnIntentShare(phase);
  for (int i = 0; i < pages; ++i) {
    std::string path;
    std::string query;
    bool intent_page = false;
    if (i == 0 && channel == 5 && (!active || rng.Chance(0.5))) {
      path = "/";
    } else if (active && rng.Chance(on_intent)) {
      intent_page = true;
      if (rng.Chance(0.15)) {
        query = spec.queries[rng.Zipf(spec.queries.size())];
      } else {
        const size_t k = rng.Zipf(spec.pages.size());
        path = spec.pages[k];
      }
    } else if (rng.Chance(0.12)) {
      // Browsing around: another product area, popularity-skewed.
      const auto& other = Intents()[rng.Zipf(kIntentCount - 1, 0.6)];
      path = other.pages[rng.Zipf(other.pages.size())];
    } else if (rng.Chance(0.1)) {
      query = ServicingQueries()[rng.Zipf(ServicingQueries().size())];
    } else if (rng.Chance(0.5)) {
      const auto& service = Spec(Intent::kEverydayServicing);
      path = service.pages[rng.Zipf(service.pages.size())];
    } else {
      path = GeneralPages()[rng.Zipf(GeneralPages().size())];
    }
    if (!query.empty()) {
      // Some typing noise: a dropped character.
      if (rng.Chance(0.08) && query.size() > 4) query.erase(rng.Below(query.size()), 1);
      const auto dwell = static_cast<uint32_t>(rng.LogNormal(std::log(6000.0), 0.6));
      v1::WebEvent e = page_event(v1::WEB_EVENT_TYPE_SEARCH, SearchPath(query), dwell);
      e.set_search_query(query);
      emit(&e, t);
      t += dwell + static_cast<int64_t>(rng.Below(2000));
      continue;
    }
    const bool calculator = path.find("calculator") != std::string::npos;
    const double mean_dwell = calculator ? 90000 : intent_page ? 40000 : path == "/" ? 8000 : 20000;
    const auto dwell = static_cast<uint32_t>(rng.LogNormal(std::log(mean_dwell), 0.7));
    v1::WebEvent e = page_event(v1::WEB_EVENT_TYPE_PAGE_VIEW, path, dwell);
    if (intent_page && !spec.product_code.empty() && rng.Chance(0.6)) {
      e.set_product_code(std::string(spec.product_code));
    }
    emit(&e, t);
    const int64_t page_start = t;
    t += dwell;
    auto extra = [&](v1::WebEventType type, double at) {
      v1::WebEvent x = page_event(type, path, 0);
      x.set_product_code(e.product_code());
      emit(&x, page_start + static_cast<int64_t>(at * dwell) + 1);
    };
    if (calculator && rng.Chance(0.6)) extra(v1::WEB_EVENT_TYPE_CALCULATOR_USE, 0.5);
    if (intent_page && phase != Phase::kResearch && rng.Chance(0.12)) {
      extra(v1::WEB_EVENT_TYPE_DOWNLOAD, 0.7);
    }
    if (intent_page && rng.Chance(0.15)) extra(v1::WEB_EVENT_TYPE_CLICK, 0.9);
    if (rng.Chance(0.005)) extra(v1::WEB_EVENT_TYPE_CHAT_START, 0.8);
    t += 300 + static_cast<int64_t>(rng.Below(2500));
  }
  // Deciding: the application form, started (and sometimes sent) before login.
  if (active && phase == Phase::kDecide && !spec.apply_path.empty() && !p.applied &&
      rng.Chance(0.35)) {
    const std::string path(spec.apply_path);
    const auto dwell = static_cast<uint32_t>(rng.LogNormal(std::log(120000.0), 0.5));
    v1::WebEvent view = page_event(v1::WEB_EVENT_TYPE_PAGE_VIEW, path, dwell);
    view.set_product_code(std::string(spec.product_code));
    emit(&view, t);
    v1::WebEvent start = page_event(v1::WEB_EVENT_TYPE_FORM_START, path, 0);
    start.set_product_code(std::string(spec.product_code));
    emit(&start, t + 5000);
    t += dwell;
    if (rng.Chance(0.45)) {
      v1::WebEvent submit = page_event(v1::WEB_EVENT_TYPE_FORM_SUBMIT, path, 0);
      submit.set_product_code(std::string(spec.product_code));
      emit(&submit, t);
      if (customer) {
        EmitLink(p, *cookie, t + 200, v1::LINK_METHOD_FORM_SUBMIT);
        truth.linked = true;
        p.web_form_submitted = true;  // finished in the app
      }
      t += 1000;
    }
  }
  // Logging in ends the pre-login session (online banking is not in web-events).
  if (customer) {
    double login = channel == 5 ? 0.5 : 0.18;
    if (phase == Phase::kDecide) login += 0.15;
    if (rng.Chance(login)) {
      const auto dwell = static_cast<uint32_t>(rng.LogNormal(std::log(9000.0), 0.4));
      v1::WebEvent e = page_event(v1::WEB_EVENT_TYPE_PAGE_VIEW, "/login", dwell);
      emit(&e, t);
      t += dwell;
      EmitLink(p, *cookie, t, v1::LINK_METHOD_WEB_LOGIN);
      truth.linked = true;
    } else if (p.app_user && cookie->device == v1::DEVICE_MOBILE_WEB && rng.Chance(0.1)) {
      EmitLink(p, *cookie, t, v1::LINK_METHOD_APP_HANDOFF);
      truth.linked = true;
    }
  }
  truth.end_ms = t;
  ++stats_.web_sessions;
  if (truth.linked) ++stats_.linked_web_sessions;
  if (truth_) truth_->OnSession(truth);
  return t;
}

int64_t Generator::Impl::Apply(Person& p, Intent product, int64_t t, Rng& rng, uint32_t* events) {
  const IntentSpec& spec = Spec(product);
  const std::string screen = "apply/" + std::string(spec.slug);
  v1::AppEvent start = AppBase(p, t, v1::APP_ACTION_APPLICATION_START, screen,
                               static_cast<uint32_t>(rng.LogNormal(std::log(60000.0), 0.5)));
  start.set_product_code(std::string(spec.product_code));
  Emit(Topic::kApp, p.id, t, start.action(), &start);
  ++*events;
  t += start.dwell_ms();
  const bool episode_match = p.in_episode && p.intent == product;
  if (episode_match) p.applied = true;
  if (!rng.Chance(Eligibility(p, product))) return t + 1000;  // declined or abandoned
  t += 60'000 + static_cast<int64_t>(rng.Below(600'000));
  v1::AppEvent done = AppBase(p, t, v1::APP_ACTION_APPLICATION_COMPLETE, screen, 5000);
  done.set_product_code(std::string(spec.product_code));
  const std::string event_id = Emit(Topic::kApp, p.id, t, done.action(), &done);
  ++*events;
  p.products |= 1u << static_cast<size_t>(product);
  const Intent closed = episode_match ? product : Intent::kEverydayServicing;
  ++stats_.conversions[static_cast<size_t>(closed)];
  if (truth_) {
    ConversionTruth c;
    c.customer_id = p.id;
    c.event_id = event_id;
    c.time_ms = t;
    c.product_code = std::string(spec.product_code);
    c.intent = closed;
    truth_->OnConversion(c);
  }
  EmitProfile(p, t + 60'000);  // the core banking system catches up a minute later
  if (episode_match) EndEpisode(p, t, /*converted=*/true, /*warmup=*/false);
  return t + 5000;
}

Generator::Impl::AppVisit Generator::Impl::BeginAppSession(Person& p, int64_t t, Phase phase,
                                                           Rng& rng) {
  if (!p.counted_app_user) {
    p.counted_app_user = true;
    ++stats_.customers_with_app_sessions;
  }
  AppVisit v;
  SessionTruth& truth = v.truth;
  truth.session_id = NewSessionId();
  truth.web = false;
  truth.visitor_id = p.id;
  truth.customer_id = p.id;
  truth.person_id = p.id;
  truth.intent = p.in_episode ? p.intent : Intent::kEverydayServicing;
  truth.phase = phase;
  truth.start_ms = t;
  v.phase = phase;
  auto dwell = [&](double mean) {
    return static_cast<uint32_t>(rng.LogNormal(std::log(mean), 0.6));
  };

  v1::AppEvent login = AppBase(p, t, v1::APP_ACTION_LOGIN, "login", dwell(3000));
  truth.first_event_id = Emit(Topic::kApp, p.id, t, login.action(), &login);
  ++truth.events;
  t += login.dwell_ms();

  // Homepage: three tiles chosen by the bank's current (popularity-driven) policy,
  // independent of intent, so clicks reveal what the customer wants. Drawn in every
  // arm, so the person-day's random stream is the same whatever the tiles shown.
  std::array<double, kIntentCount> tile_w{};
  for (const auto& spec : Intents()) {
    const size_t k = static_cast<size_t>(spec.intent);
    if (!TileEligible(p, spec.intent)) continue;
    tile_w[k] = spec.intent == Intent::kEverydayServicing ? 3.0
                : spec.intent == Intent::kEmergencySavings || spec.intent == Intent::kTravelRewards
                    ? 2.0
                : spec.intent == Intent::kBalanceTransfer ? 1.5
                                                          : 1.0;
  }
  v.bank_propensity = InclusionProbabilities(tile_w, kTilesShown);
  for (; v.bank_count < kTilesShown; ++v.bank_count) {
    double total = 0;
    for (double w : tile_w) total += w;
    if (total <= 0) break;
    const size_t k = rng.Weighted(tile_w);
    v.bank[static_cast<size_t>(v.bank_count)] = static_cast<Intent>(k);
    tile_w[k] = 0;
  }
  v1::AppEvent home = AppBase(p, t, v1::APP_ACTION_SCREEN_VIEW, "home", dwell(8000));
  Emit(Topic::kApp, p.id, t, home.action(), &home);
  ++truth.events;
  v.home_ms = t;
  v.home_dwell = home.dwell_ms();
  v.t = t;
  return v;
}

std::vector<Generator::Impl::Tile> Generator::Impl::BankTiles(const AppVisit& v) const {
  std::vector<Tile> tiles;
  for (int i = 0; i < v.bank_count; ++i) {
    const IntentSpec& spec = Spec(v.bank[static_cast<size_t>(i)]);
    tiles.push_back({spec.intent, std::string(spec.offer_id), std::string(spec.tile_id)});
  }
  return tiles;
}

std::vector<Generator::Impl::Tile> Generator::Impl::OracleTiles(const Person& p,
                                                                const AppVisit& v) const {
  std::vector<Tile> bank = BankTiles(v);
  if (!p.in_episode || p.intent == Intent::kEverydayServicing) return bank;
  const IntentSpec& spec = Spec(p.intent);
  std::vector<Tile> tiles{{spec.intent, std::string(spec.offer_id), std::string(spec.tile_id)}};
  for (auto& t : bank) {
    if (tiles.size() < static_cast<size_t>(kTilesShown) && t.intent != spec.intent) {
      tiles.push_back(std::move(t));
    }
  }
  return tiles;
}

int64_t Generator::Impl::FinishAppSession(Person& p, AppVisit& v, const std::vector<Tile>& shown,
                                          TileSource source, Rng& rng) {
  SessionTruth& truth = v.truth;
  const Phase phase = v.phase;
  int64_t t = v.t;
  auto dwell = [&](double mean) {
    return static_cast<uint32_t>(rng.LogNormal(std::log(mean), 0.6));
  };
  auto emit = [&](v1::AppEvent* e) {
    Emit(Topic::kApp, p.id, t, static_cast<uint32_t>(e->action()), e);
    ++truth.events;
    t += e->dwell_ms() + 200 + static_cast<int64_t>(rng.Below(1500));
  };
  HomeVisitTruth visit;
  visit.customer_id = p.id;
  visit.session_id = truth.session_id;
  visit.login_event_id = truth.first_event_id;
  visit.time_ms = truth.start_ms;
  visit.arm = loop_.enabled ? arms_[p.index] : Arm::kBank;
  visit.source = source;
  const int shown_count = static_cast<int>(shown.size());
  for (int i = 0; i < shown_count; ++i) {
    const Tile& tile = shown[static_cast<size_t>(i)];
    v1::AppEvent imp = AppBase(p, t, v1::APP_ACTION_TILE_IMPRESSION, "home", 0);
    imp.set_tile_id(tile.tile_id);
    imp.set_offer_id(tile.offer_id);
    Emit(Topic::kApp, p.id, t + 10 * (i + 1), imp.action(), &imp);
    ++truth.events;
    TileTruth tt;
    tt.offer_id = tile.offer_id;
    tt.intent = tile.intent;
    // The bank's policy shows an intent's offer only as that intent's tile.
    if (tile.offer_id == Spec(tile.intent).offer_id) {
      tt.bank_propensity = v.bank_propensity[static_cast<size_t>(tile.intent)];
    }
    visit.tiles.push_back(std::move(tt));
  }
  t += v.home_dwell;
  for (int i = 0; i < shown_count; ++i) {
    const Tile& shown_tile = shown[static_cast<size_t>(i)];
    const Intent tile_intent = shown_tile.intent;
    const IntentSpec& tile = Spec(tile_intent);
    TileTruth& tt = visit.tiles[static_cast<size_t>(i)];
    const bool match = p.in_episode && p.intent == tile_intent;
    double click = 0.015;
    if (match) {
      click = tile_intent == Intent::kFraudConcern ? 0.5
              : phase == Phase::kResearch          ? 0.12
              : phase == Phase::kConsider          ? 0.25
                                                   : 0.4;
    }
    if (rng.Chance(click)) {
      tt.clicked = true;
      v1::AppEvent c = AppBase(p, t, v1::APP_ACTION_TILE_CLICK, "home", 0);
      c.set_tile_id(shown_tile.tile_id);
      c.set_offer_id(shown_tile.offer_id);
      emit(&c);
      v1::AppEvent view = AppBase(p, t, v1::APP_ACTION_SCREEN_VIEW,
                                  "offers/" + std::string(tile.slug), dwell(30000));
      view.set_product_code(std::string(tile.product_code));
      emit(&view);
      if (!tile.product_code.empty()) {
        const bool ready = match && phase != Phase::kResearch && !p.applied && rng.Chance(0.35);
        const bool impulse = !match && rng.Chance(0.03);
        if (ready || impulse) {
          const uint64_t before = TotalConversions();
          t = Apply(p, tile_intent, t, rng, &truth.events);
          tt.applied = true;
          tt.converted = TotalConversions() > before;
        }
      }
      break;  // one click leaves the homepage
    }
    if (rng.Chance(match ? 0.01 : 0.04)) {
      tt.dismissed = true;
      v1::AppEvent d = AppBase(p, t, v1::APP_ACTION_TILE_DISMISS, "home", 0);
      d.set_tile_id(shown_tile.tile_id);
      d.set_offer_id(shown_tile.offer_id);
      emit(&d);
    }
  }
  // An application sent on the web is finished in the app.
  if (p.in_episode && p.web_form_submitted && !p.applied && rng.Chance(0.8)) {
    t = Apply(p, p.intent, t, rng, &truth.events);
  }
  // Mostly servicing: balances, transfers, payments.
  static constexpr std::pair<v1::AppAction, std::string_view> kServicing[] = {
      {v1::APP_ACTION_BALANCE_CHECK, "accounts"},
      {v1::APP_ACTION_SCREEN_VIEW, "accounts/transactions"},
      {v1::APP_ACTION_TRANSFER, "transfers"},
      {v1::APP_ACTION_PAYMENT, "payments"},
      {v1::APP_ACTION_SCREEN_VIEW, "cards"},
      {v1::APP_ACTION_SCREEN_VIEW, "statements"},
      {v1::APP_ACTION_SCREEN_VIEW, "notifications"},
      {v1::APP_ACTION_SCREEN_VIEW, "settings"},
      {v1::APP_ACTION_SCREEN_VIEW, "help"},
      {v1::APP_ACTION_SEARCH, "search"},
  };
  static constexpr double kServicingW[] = {0.33, 0.2,  0.12, 0.12, 0.05,
                                           0.04, 0.05, 0.03, 0.03, 0.03};
  const int actions = std::min(30, 1 + rng.Poisson(2.0 * std::sqrt(p.activity)));
  for (int a = 0; a < actions; ++a) {
    const auto& [action, screen] = kServicing[rng.Weighted(kServicingW)];
    v1::AppEvent e =
        AppBase(p, t, action, screen, dwell(action == v1::APP_ACTION_TRANSFER ? 25000 : 12000));
    if (action == v1::APP_ACTION_SEARCH) {
      e.set_search_query(std::string(ServicingQueries()[rng.Zipf(ServicingQueries().size())]));
    }
    emit(&e);
  }
  // Product exploration in the app is rare, except for fraud worries.
  if (p.in_episode) {
    const IntentSpec& spec = Spec(p.intent);
    const double explore = p.intent == Intent::kFraudConcern ? 0.7
                           : phase == Phase::kDecide         ? 0.15
                                                             : 0.07;
    if (rng.Chance(explore)) {
      v1::AppEvent e = AppBase(p, t, v1::APP_ACTION_SCREEN_VIEW,
                               spec.app_screens[rng.Zipf(spec.app_screens.size())], dwell(20000));
      e.set_product_code(std::string(spec.product_code));
      emit(&e);
      if (rng.Chance(0.2)) {
        v1::AppEvent s = AppBase(p, t, v1::APP_ACTION_SEARCH, "search", dwell(5000));
        s.set_search_query(std::string(spec.queries[rng.Zipf(spec.queries.size())]));
        emit(&s);
      }
    }
    if (p.in_episode && phase == Phase::kDecide && !p.applied && !spec.product_code.empty() &&
        rng.Chance(0.25)) {
      t = Apply(p, p.intent, t, rng, &truth.events);
    }
  }
  truth.end_ms = t;
  ++stats_.app_sessions;
  if (truth_) {
    truth_->OnHomeVisit(visit);
    truth_->OnSession(truth);
  }
  return t;
}

void Generator::Impl::Advance() {
  if (loop_.enabled) {
    AdvanceClosedLoop();
    return;
  }
  int64_t cutoff;
  if (day_ < options_.days) {
    GenerateDay(day_);
    ++day_;
    // Every later session starts at or after the next midnight.
    cutoff = options_.start_time_ms + static_cast<int64_t>(day_) * kDayMs;
  } else {
    for (Person& p : people_) EndEpisode(p, options_.start_time_ms + day_ * kDayMs, false, false);
    finished_ = true;
    cutoff = std::numeric_limits<int64_t>::max();
  }
  Release(cutoff);
}

// Moves the pending records before `cutoff` to ready_, in event-time order.
void Generator::Impl::Release(int64_t cutoff) {
  ready_.clear();
  ready_pos_ = 0;
  std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
    return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : a.seq < b.seq;
  });
  size_t n = 0;
  while (n < pending_.size() && pending_[n].time_ms < cutoff) ++n;
  ready_.reserve(n);
  for (size_t i = 0; i < n; ++i) ready_.push_back(std::move(pending_[i].record));
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
}

void Generator::Impl::AdvanceClosedLoop() {
  // Answered visits go on; then every cursor runs to the step's end or its next wait.
  waiting_.clear();
  waiting_cursor_.clear();
  if (!day_open_) {
    if (day_ >= options_.days) {
      for (Person& p : people_) EndEpisode(p, options_.start_time_ms + day_ * kDayMs, false, false);
      finished_ = true;
      Release(std::numeric_limits<int64_t>::max());
      return;
    }
    cursors_.clear();
    cursors_.reserve(people_.size());
    for (Person& p : people_) cursors_.push_back(OpenDay(p, day_));
    day_open_ = true;
    step_end_ = options_.start_time_ms + static_cast<int64_t>(day_) * kDayMs + loop_.step_ms;
  }
  const int64_t day_end = options_.start_time_ms + static_cast<int64_t>(day_ + 1) * kDayMs;
  const bool last_step = step_end_ >= day_end;
  // The day's last step also runs sessions pushed past midnight by earlier ones.
  const int64_t until = last_step ? std::numeric_limits<int64_t>::max() : step_end_;
  int64_t latest_home = std::numeric_limits<int64_t>::min();
  for (size_t i = 0; i < cursors_.size(); ++i) {
    DayCursor& c = cursors_[i];
    if (c.visit && c.answered) {
      Person& p = people_[c.person];
      std::vector<Tile> tiles;
      if (c.source == TileSource::kProcessor) {
        for (auto& t : c.answer) {
          tiles.push_back({t.intent, std::move(t.offer_id), std::move(t.tile_id)});
        }
      } else {
        tiles = BankTiles(*c.visit);
      }
      c.free_at = FinishAppSession(p, *c.visit, tiles, c.source, c.rng);
      c.visit.reset();
      c.answer.clear();
    }
    if (!c.done && !c.visit) RunCursor(c, day_, until);
    if (c.visit) {
      HomeVisit h;
      h.customer_id = people_[c.person].id;
      h.login_event_id = c.visit->truth.first_event_id;
      h.session_id = c.visit->truth.session_id;
      h.login_ms = c.visit->truth.start_ms;
      h.arm = arms_[c.person];
      waiting_.push_back(std::move(h));
      waiting_cursor_.push_back(i);
      latest_home = std::max(latest_home, c.visit->home_ms);
    }
  }
  if (!waiting_.empty()) {
    // Everything up to the waiting visits' home screens goes out, so the processor can
    // decide; records of this step after them follow once they are answered.
    Release(latest_home + 1);
    return;
  }
  if (last_step) {
    day_open_ = false;
    cursors_.clear();
    ++day_;
    Release(day_end);  // every later session starts at or after midnight
    return;
  }
  step_end_ += loop_.step_ms;
  Release(step_end_ - loop_.step_ms);
}

void Generator::Impl::Answer(size_t i, std::vector<ShownTile> tiles, TileSource source) {
  if (i >= waiting_cursor_.size()) throw std::out_of_range("Generator::Answer: no such visit");
  DayCursor& c = cursors_[waiting_cursor_[i]];
  if (source == TileSource::kProcessor && tiles.empty()) source = TileSource::kMiss;
  c.answer = std::move(tiles);
  c.source = source;
  c.answered = true;
}

bool Generator::Impl::IsCustomer(std::string_view id) const {
  if (id.size() != 10 || id[0] != 'C') return false;
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), n);
  return ec == std::errc() && end == id.data() + id.size() && n >= 1 &&
         n <= static_cast<uint64_t>(options_.customers);
}

bool Generator::Impl::Next(Record* out) {
  if (options_.max_records > 0 && emitted_ >= static_cast<uint64_t>(options_.max_records)) {
    waiting_.clear();  // the world ends here: nobody waits any more
    waiting_cursor_.clear();
    return false;
  }
  while (ready_pos_ >= ready_.size()) {
    if (finished_) return false;
    if (!waiting_.empty()) {
      for (size_t i : waiting_cursor_) {
        if (!cursors_[i].answered) return false;  // the caller answers first
      }
    }
    Advance();
  }
  *out = std::move(ready_[ready_pos_++]);
  ++emitted_;
  ++stats_.records_by_topic[static_cast<size_t>(out->topic)];
  const uint32_t type = out->event_type;
  switch (out->topic) {
    case Topic::kWeb:
      ++stats_.web_by_type[std::min<size_t>(type, stats_.web_by_type.size() - 1)];
      break;
    case Topic::kApp:
      ++stats_.app_by_type[std::min<size_t>(type, stats_.app_by_type.size() - 1)];
      break;
    case Topic::kLink:
      ++stats_.link_by_method[std::min<size_t>(type, stats_.link_by_method.size() - 1)];
      break;
    case Topic::kProfile:
      break;
  }
  return true;
}

Generator::Generator(const WorldOptions& options, TruthSink* truth, const ClosedLoopOptions& loop)
    : impl_(std::make_unique<Impl>(options, truth, loop)) {}
const std::vector<HomeVisit>& Generator::waiting() const {
  return impl_->waiting();
}
void Generator::Answer(size_t i, std::vector<ShownTile> tiles, TileSource source) {
  impl_->Answer(i, std::move(tiles), source);
}
bool Generator::IsCustomer(std::string_view id) const {
  return impl_->IsCustomer(id);
}
const ClosedLoopOptions& Generator::closed_loop() const {
  return impl_->closed_loop();
}
Generator::~Generator() = default;
bool Generator::Next(Record* out) {
  return impl_->Next(out);
}
int32_t Generator::current_day() const {
  return impl_->current_day();
}
int32_t Generator::days() const {
  return impl_->days();
}
const WorldStats& Generator::stats() const {
  return impl_->stats();
}

}  // namespace intentstream::sim
