// What the generator yields: Kafka-ready records, plus the ground truth that only
// offline evaluation may read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/arms.h"
#include "sim/catalog.h"

namespace intentstream::sim {

// Input topic a record belongs to.
enum class Topic : uint8_t { kWeb, kApp, kLink, kProfile };
inline constexpr size_t kTopicCount = 4;

// Kafka topic name: "web-events", "app-events", "identity-links", "customer-profiles".
std::string_view TopicName(Topic topic);

// One input record, ready to produce. `key` is what the processor expects:
// anonymous_id for web events and identity links, customer_id for app events and
// profiles. `value` is the binary protobuf (WebEvent, AppEvent, IdentityLink or
// CustomerProfile).
struct Record {
  Topic topic = Topic::kWeb;
  std::string key;
  std::string value;
  int64_t event_time_ms = 0;
  // WebEventType, AppAction or LinkMethod number of the event (0 for profiles); lets
  // callers count without parsing.
  uint32_t event_type = 0;
};

// --- Ground truth (never an input of the processor) ---

enum class Phase : uint8_t { kNone, kResearch, kConsider, kDecide };
std::string_view PhaseName(Phase phase);

// One session of one person on one channel.
struct SessionTruth {
  std::string session_id;      // web: WebEvent.session_id; app: generated
  bool web = true;             // false: app session
  std::string visitor_id;      // anonymous_id (web) or customer_id (app)
  std::string customer_id;     // the person's customer id, "" for prospects and bots
  std::string person_id;       // stable id of the person behind it (also for prospects)
  std::string first_event_id;  // app sessions start with their LOGIN event
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  uint32_t events = 0;
  Intent intent = Intent::kEverydayServicing;  // latent intent during the session
  Phase phase = Phase::kNone;
  bool bot = false;
  bool linked = false;  // the session ended with an identity link
};

// A completed application (APPLICATION_COMPLETE).
struct ConversionTruth {
  std::string customer_id;
  std::string event_id;
  int64_t time_ms = 0;
  std::string product_code;
  Intent intent = Intent::kEverydayServicing;  // the episode it closed
};

// A latent intent episode: from its start to its conversion or fading out.
struct EpisodeTruth {
  std::string person_id;
  std::string customer_id;  // "" for prospects
  Intent intent = Intent::kEverydayServicing;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool converted = false;
};

// Where a home visit's tiles came from.
enum class TileSource : uint8_t {
  kBank,       // the bank's policy (bank arm, and every visit of an open-loop world)
  kProcessor,  // the processor's decision for this login
  kMiss,       // no decision in time: the bank's policy
  kRejected,   // a decision naming an offer the world does not know: the bank's policy
  kOracle,     // the active latent intent's tile first
};
std::string_view TileSourceName(TileSource source);

// One tile shown on a home visit and what the customer did with it.
struct TileTruth {
  std::string offer_id;
  Intent intent = Intent::kEverydayServicing;  // the intent the offer serves
  // Probability that the bank's policy shows this offer on this visit (its logging
  // propensity; 0 when the bank's policy could not have shown it).
  double bank_propensity = 0;
  bool clicked = false;
  bool dismissed = false;
  bool applied = false;    // an application started from the tile
  bool converted = false;  // that application completed
};

// The homepage of one app session: its arm, the tiles shown, the responses.
struct HomeVisitTruth {
  std::string customer_id;
  std::string session_id;
  std::string login_event_id;
  int64_t time_ms = 0;  // the LOGIN's event time
  Arm arm = Arm::kBank;
  TileSource source = TileSource::kBank;
  std::vector<TileTruth> tiles;
};

// Receives truth as the generator produces it (day by day, before that day's records
// are yielded). Implementations must not throw.
class TruthSink {
 public:
  virtual ~TruthSink() = default;
  virtual void OnSession(const SessionTruth& session) = 0;
  virtual void OnConversion(const ConversionTruth& conversion) = 0;
  virtual void OnEpisode(const EpisodeTruth& episode) = 0;
  virtual void OnHomeVisit(const HomeVisitTruth&) {}
  // Closed-loop worlds: every customer's arm, once, before the first day.
  virtual void OnArm(std::string_view /*customer_id*/, Arm /*arm*/) {}
};

}  // namespace intentstream::sim
