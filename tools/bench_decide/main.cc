// intentstream-bench-decide: the cost of one decision of the DecisionOperator, on
// synthetic customers against the built-in catalogue (30 offers), with an in-memory
// op::StateWriter and a sink that serializes like the processor's. Variants run side by
// side on identical input, interleaved round by round, and each round's ratio to the
// baseline is reported, so a change is measured against the same machine state.
//
//   intentstream-bench-decide [--customers N] [--decisions N] [--rounds N] [--batch N]
//                             [--seed N] [--show N] [--no-serialize]
//
// Variants: "messages off" (decision.messages.enabled=false: the headline as message)
// and "messages on" (grounded, cited messages). Add a variant in Variants() below.
//
// The state writer and the sink serialize each decision as the state stage and the
// processor's sink do (twice, so a bigger decision costs twice); their share is timed
// and printed apart. --no-serialize leaves it out: the operator's own work only.
#include <CLI/CLI.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "common/cpu_time.h"
#include "common/logging.h"
#include "decide/decision_operator.h"
#include "ingest/session_event.h"

namespace {

using intentstream::ThreadCpuSeconds;

namespace v1 = intentstream::v1;
namespace op = intentstream::op;
namespace decide = intentstream::decide;
namespace catalog = intentstream::catalog;

constexpr int64_t kStartMs = 1'790'000'000'000;  // event time of the first decision
constexpr int64_t kStepMs = 61'000;              // > decision.home.min_interval_ms
constexpr size_t kMaxEvents = 64;                // state.max_session_events

void SetMillis(google::protobuf::Timestamp* ts, int64_t ms) {
  ts->set_seconds(ms / 1000);
  ts->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
}

// The committed state the operator reads and writes, in memory. Decisions are serialized
// as the state stage does.
class MemoryState final : public op::StateWriter {
 public:
  const v1::CustomerProfile* Profile(std::string_view customer_id) override {
    const auto it = profiles.find(std::string(customer_id));
    return it == profiles.end() ? nullptr : &it->second;
  }
  const v1::CustomerOffers& Offers(std::string_view customer_id) override {
    return offers[std::string(customer_id)];
  }
  v1::CustomerOffers& MutableOffers(std::string_view customer_id) override {
    return offers[std::string(customer_id)];
  }
  void PutDecision(std::string_view customer_id, std::string_view placement,
                   const v1::Decision& decision) override {
    if (!serialize) return;
    const double start = ThreadCpuSeconds();
    decision.SerializeToString(&decisions[std::string(customer_id) + "|" + std::string(placement)]);
    serialize_seconds += ThreadCpuSeconds() - start;
  }
  const std::string* TaskValue(int32_t task, std::string_view name) override {
    const auto it = task_values.find(std::to_string(task) + "|" + std::string(name));
    return it == task_values.end() ? nullptr : &it->second;
  }
  void PutTaskValue(int32_t task, std::string_view name, std::string value) override {
    task_values[std::to_string(task) + "|" + std::string(name)] = std::move(value);
  }

  std::unordered_map<std::string, v1::CustomerProfile> profiles;
  std::unordered_map<std::string, v1::CustomerOffers> offers;
  std::unordered_map<std::string, std::string> decisions;
  std::unordered_map<std::string, std::string> task_values;
  bool serialize = true;
  double serialize_seconds = 0;
};

// Serializes every output, as the processor's sink does, and keeps what it needs.
class CountingSink final : public op::DecisionSink {
 public:
  void Emit(const v1::Decision& d) override {
    Serialize(d);
    ++decisions;
    if (keep) kept.push_back(d);
    ranking.push_back(d.offers_size() > 0 ? d.offers(0).offer_id() : "");
  }
  void Emit(const v1::Trigger& t) override {
    Serialize(t);
    ++triggers;
  }
  bool serialize = true;
  double serialize_seconds = 0;
  uint64_t decisions = 0, triggers = 0, output_bytes = 0;
  bool keep = false;
  std::vector<v1::Decision> kept;
  std::vector<std::string> ranking;  // top offer of each decision, to compare variants

 private:
  void Serialize(const google::protobuf::MessageLite& m) {
    if (!serialize) return;
    const double start = ThreadCpuSeconds();
    m.SerializeToString(&bytes_);
    serialize_seconds += ThreadCpuSeconds() - start;
    output_bytes += bytes_.size();
  }
  std::string bytes_;
};

// One synthetic customer: a profile and a session drawn from one intent of the taxonomy.
struct Customer {
  std::string id;
  v1::CustomerProfile profile;
  v1::VisitorState state;
};

std::vector<Customer> MakeCustomers(const catalog::Catalog& cat, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const char* genders[] = {"female", "male", "undisclosed"};
  std::vector<Customer> out;
  for (int c = 0; c < n; ++c) {
    Customer cu;
    cu.id = "bench-" + std::to_string(c);
    auto& p = cu.profile;
    p.set_customer_id(cu.id);
    SetMillis(p.mutable_updated_time(), kStartMs - 86'400'000);
    p.set_age_band(static_cast<v1::AgeBand>(uniform(1, 6)));
    p.set_income_band(static_cast<v1::IncomeBand>(uniform(1, 5)));
    p.set_risk_appetite(static_cast<v1::RiskAppetite>(uniform(1, 3)));
    p.set_tenure_months(static_cast<uint32_t>(uniform(1, 240)));
    p.set_credit_grade(static_cast<uint32_t>(uniform(1, 10)));
    p.set_marketing_consent(uniform(0, 9) < 7);
    p.add_products_held("CURRENT_ACCOUNT");
    for (int k = uniform(0, 2); k > 0; --k) {
      p.add_products_held(cat.products()[static_cast<size_t>(uniform(
                                             0, static_cast<int>(cat.products().size()) - 1))]
                              .code);
    }
    p.mutable_monitoring()->set_gender(genders[uniform(0, 2)]);
    // A session of web pages, searches and app screens of one intent, plus noise.
    const auto& intent =
        cat.intents()[static_cast<size_t>(uniform(0, static_cast<int>(cat.intents().size()) - 1))];
    int64_t t = kStartMs - 3'600'000;
    for (int e = 0; e < 24; ++e, t += uniform(5'000, 90'000)) {
      const int kind = uniform(0, 9);
      if (kind < 5 && !intent.pages.empty()) {
        v1::WebEvent w;
        w.set_event_id(cu.id + "-w" + std::to_string(e));
        SetMillis(w.mutable_event_time(), t);
        w.set_event_type(v1::WEB_EVENT_TYPE_PAGE_VIEW);
        w.set_url_path(
            intent
                .pages[static_cast<size_t>(uniform(0, static_cast<int>(intent.pages.size()) - 1))]);
        w.set_dwell_ms(static_cast<uint32_t>(uniform(2'000, 60'000)));
        *cu.state.add_events() = intentstream::ingest::ToSessionEvent(w);
      } else if (kind < 7 && !intent.queries.empty()) {
        v1::WebEvent w;
        w.set_event_id(cu.id + "-q" + std::to_string(e));
        SetMillis(w.mutable_event_time(), t);
        w.set_event_type(v1::WEB_EVENT_TYPE_SEARCH);
        w.set_url_path("/search");
        w.set_search_query(intent.queries[static_cast<size_t>(
            uniform(0, static_cast<int>(intent.queries.size()) - 1))]);
        *cu.state.add_events() = intentstream::ingest::ToSessionEvent(w);
      } else {
        v1::AppEvent a;
        a.set_event_id(cu.id + "-a" + std::to_string(e));
        a.set_customer_id(cu.id);
        SetMillis(a.mutable_event_time(), t);
        a.set_action(v1::APP_ACTION_SCREEN_VIEW);
        a.set_screen(intent.screens.empty() || kind == 9
                         ? "home"
                         : intent.screens[static_cast<size_t>(
                               uniform(0, static_cast<int>(intent.screens.size()) - 1))]);
        *cu.state.add_events() = intentstream::ingest::ToSessionEvent(a);
      }
    }
    cu.state.set_last_event_ms(t);
    out.push_back(std::move(cu));
  }
  return out;
}

struct Variant {
  std::string name;
  std::map<std::string, std::string> properties;  // decision.* keys over the defaults
};

std::vector<Variant> Variants() {
  return {{"messages off", {{"decision.messages.enabled", "false"}}},
          {"messages on", {{"decision.messages.enabled", "true"}}}};
}

// A variant's operator, state and customers: runs the same decisions as the others.
class Runner {
 public:
  Runner(const Variant& v, std::shared_ptr<const catalog::Catalog> cat,
         const std::vector<Customer>& customers, bool serialize, const intentstream::Logger& log)
      : name(v.name),
        op_(decide::LoadDecisionOptions(v.properties), std::move(cat), {}, nullptr, log),
        customers_(customers) {
    for (const auto& c : customers_) state_.profiles[c.id] = c.profile;
    state_.serialize = serialize;
    sink.serialize = serialize;
  }

  // Decisions [first, first + n): customer i % N logs in at kStartMs + i * kStepMs.
  // Returns the thread CPU seconds spent inside Decide.
  double Run(uint64_t first, uint64_t n, size_t batch) {
    double cpu = 0;
    std::vector<v1::AppEvent> apps(batch);
    std::vector<std::string> ids(batch);
    std::vector<op::VisitorUpdate> updates(batch);
    for (uint64_t i = first; i < first + n;) {
      const size_t b = static_cast<size_t>(std::min<uint64_t>(batch, first + n - i));
      for (size_t k = 0; k < b; ++k, ++i) {
        Customer& c = customers_[static_cast<size_t>(i % customers_.size())];
        const int64_t t = kStartMs + static_cast<int64_t>(i) * kStepMs;
        ids[k] = c.id + "-login-" + std::to_string(i);
        auto& a = apps[k];
        a.set_event_id(ids[k]);
        a.set_customer_id(c.id);
        SetMillis(a.mutable_event_time(), t);
        a.set_action(v1::APP_ACTION_LOGIN);
        a.set_screen("home");
        auto* events = c.state.mutable_events();
        *events->Add() = intentstream::ingest::ToSessionEvent(a);
        if (static_cast<size_t>(events->size()) > kMaxEvents) events->DeleteSubrange(0, 1);
        c.state.set_last_event_ms(t);
        auto& u = updates[k];
        u = {};
        u.visitor_id = c.id;
        u.customer_id = c.id;
        u.state = &c.state;
        u.task = static_cast<int32_t>(i % 8);
        u.event.kind = op::StepEvent::Kind::kApp;
        u.event.event_id = ids[k];
        u.event.time_ms = t;
        u.event.app = &a;
      }
      const double start = ThreadCpuSeconds();
      op_.Decide(std::span<op::VisitorUpdate>(updates.data(), b), state_, sink);
      cpu += ThreadCpuSeconds() - start;
    }
    return cpu;
  }

  decide::DecisionOperator::MessageCacheStats cache() const { return op_.message_cache_stats(); }
  double serialize_seconds() const { return state_.serialize_seconds + sink.serialize_seconds; }

  std::string name;
  CountingSink sink;

 private:
  decide::DecisionOperator op_;
  std::vector<Customer> customers_;
  MemoryState state_;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()      ? 0
         : v.size() % 2 ? v[v.size() / 2]
                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Per-decision cost of the decision operator, variants side by side"};
  int customers = 2000;
  uint64_t decisions = 40000;
  int rounds = 10;
  size_t batch = 16;
  uint64_t seed = 7;
  int show = 0;
  bool no_serialize = false;
  app.add_option("--customers", customers, "synthetic customers")->check(CLI::Range(1, 10000000));
  app.add_option("--decisions", decisions, "decisions per variant (after a warm-up round)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  app.add_option("--rounds", rounds, "rounds the decisions are split into, variants interleaved")
      ->check(CLI::Range(1, 100000));
  app.add_option("--batch", batch, "customers per Decide call (a processing step)")
      ->check(CLI::Range(size_t{1}, size_t{4096}));
  app.add_option("--seed", seed, "seed of the synthetic customers");
  app.add_option("--show", show, "print the tiles of the first N decisions with messages")
      ->check(CLI::Range(0, 1000));
  app.add_flag("--no-serialize", no_serialize,
               "do not serialize outputs (the operator's own work only)");
  CLI11_PARSE(app, argc, argv);

  intentstream::LogSink log_sink(intentstream::LogSink::Format::kText,
                                 intentstream::LogLevel::kWarn);
  const intentstream::Logger log(&log_sink, "bench");
  const auto cat = catalog::DefaultCatalog();
  const auto people = MakeCustomers(*cat, customers, seed);
  std::vector<std::unique_ptr<Runner>> runners;
  for (const auto& v : Variants()) {
    runners.push_back(std::make_unique<Runner>(v, cat, people, !no_serialize, log));
  }

  const uint64_t per_round = std::max<uint64_t>(1, decisions / static_cast<uint64_t>(rounds));
  // Warm-up: caches, allocators, posteriors; as many decisions as one round.
  for (auto& r : runners) {
    r->sink.keep = show > 0;
    r->Run(0, per_round, batch);
    r->sink.keep = false;
  }
  struct Totals {
    std::vector<double> us;  // per round, CPU us per decision
    uint64_t decisions = 0, triggers = 0, bytes = 0;
    double serialize_seconds = 0;
    decide::DecisionOperator::MessageCacheStats cache;
  };
  std::vector<Totals> totals(runners.size());
  for (size_t v = 0; v < runners.size(); ++v) {
    totals[v].decisions = runners[v]->sink.decisions;
    totals[v].triggers = runners[v]->sink.triggers;
    totals[v].bytes = runners[v]->sink.output_bytes;
    totals[v].serialize_seconds = runners[v]->serialize_seconds();
    totals[v].cache = runners[v]->cache();
  }
  for (int round = 0; round < rounds; ++round) {
    const uint64_t first = per_round * static_cast<uint64_t>(round + 1);
    for (size_t k = 0; k < runners.size(); ++k) {
      // Alternate who goes first, so neither always runs on a warmer machine.
      const size_t v = round % 2 == 0 ? k : runners.size() - 1 - k;
      const uint64_t before = runners[v]->sink.decisions;
      const double cpu = runners[v]->Run(first, per_round, batch);
      const uint64_t made = runners[v]->sink.decisions - before;
      totals[v].us.push_back(made > 0 ? cpu * 1e6 / static_cast<double>(made) : 0);
    }
  }
  for (size_t v = 0; v < runners.size(); ++v) {  // the measured rounds only
    auto& t = totals[v];
    const auto& r = *runners[v];
    t.decisions = r.sink.decisions - t.decisions;
    t.triggers = r.sink.triggers - t.triggers;
    t.bytes = r.sink.output_bytes - t.bytes;
    t.serialize_seconds = r.serialize_seconds() - t.serialize_seconds;
    const auto c = r.cache();
    t.cache = {c.hits - t.cache.hits, c.misses - t.cache.misses};
  }

  std::printf(
      "decision bench: %d customers, %zu offers, %llu decisions per variant in %d rounds "
      "(batch %zu); thread CPU time inside Decide, outputs %s\n\n",
      customers, cat->offers().size(), static_cast<unsigned long long>(per_round * rounds), rounds,
      batch, no_serialize ? "not serialized" : "serialized twice (state, sink)");
  std::printf("%-13s %9s %8s %11s %9s %9s %11s %10s %9s %10s\n", "variant", "decisions", "triggers",
              "us/decision", "min", "max", "serialize", "bytes/out", "vs first", "cache hit");
  for (size_t v = 0; v < runners.size(); ++v) {
    const auto& t = totals[v];
    std::vector<double> ratios;
    for (size_t r = 0; r < t.us.size(); ++r) ratios.push_back(t.us[r] / totals[0].us[r]);
    const uint64_t outputs = t.decisions + t.triggers;
    const uint64_t lookups = t.cache.hits + t.cache.misses;
    std::printf(
        "%-13s %9llu %8llu %11.2f %9.2f %9.2f %11.2f %10.0f %8.1f%% %9s\n",
        runners[v]->name.c_str(), static_cast<unsigned long long>(t.decisions),
        static_cast<unsigned long long>(t.triggers), Median(t.us),
        *std::min_element(t.us.begin(), t.us.end()), *std::max_element(t.us.begin(), t.us.end()),
        t.serialize_seconds * 1e6 / static_cast<double>(std::max<uint64_t>(1, t.decisions)),
        static_cast<double>(t.bytes) / static_cast<double>(std::max<uint64_t>(1, outputs)),
        (Median(ratios) - 1) * 100,
        lookups == 0 ? "-"
                     : (std::to_string(static_cast<int>(1000.0 * static_cast<double>(t.cache.hits) /
                                                        static_cast<double>(lookups)) /
                                       10.0)
                            .substr(0, 4) +
                        "%")
                           .c_str());
  }
  std::printf(
      "\nus/decision: median over rounds (min, max: the extreme rounds); serialize: its part "
      "of us/decision;\nvs first: median over rounds of (variant / first variant) - 1; cache "
      "hit: rendered-message cache.\n");
  bool same = true;
  for (size_t v = 1; v < runners.size(); ++v) {
    same = same && runners[v]->sink.ranking == runners[0]->sink.ranking;
  }
  std::printf("rankings identical across variants: %s\n", same ? "yes" : "NO");
  for (const auto& r : runners) {
    for (int i = 0; i < show && static_cast<size_t>(i) < r->sink.kept.size(); ++i) {
      const auto& d = r->sink.kept[static_cast<size_t>(i)];
      std::printf("\n[%s] %s %s\n", r->name.c_str(), d.customer_id().c_str(),
                  d.placement().c_str());
      for (const auto& o : d.offers()) {
        std::printf("  %u. %s: %s\n", o.rank(), o.offer_id().c_str(), o.message().c_str());
        for (int c = 0; c < o.citations_size(); ++c) {
          std::printf("       [%d] %s (%s)\n", c + 1, o.citations(c).passage_id().c_str(),
                      o.citations(c).title().c_str());
        }
      }
    }
  }
  return same ? 0 : 1;
}
