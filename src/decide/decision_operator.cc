#include "decide/decision_operator.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "common/clock.h"
#include "common/hash.h"
#include "common/holdout.h"
#include "decide/arbitration.h"
#include "decide/exploration.h"
#include "decide/fairness.h"
#include "decide/features.h"
#include "decide/feedback.h"
#include "decide/intent_rules.h"
#include "decide/message_check.h"
#include "decide/messages.h"
#include "decide/policy.h"
#include "decide/posteriors.h"

namespace intentstream::decide {

const char* ArmName(Arm arm) {
  return arm == Arm::kHoldout ? "holdout" : "treated";
}

namespace {

constexpr const char* kAllSegment = "all";
constexpr const char* kPosteriorsName = "posteriors";
constexpr size_t kStoredIntents = 6;       // intents kept in a visitor's state
constexpr float kMinStoredIntent = 0.05f;  // ... from this score
constexpr size_t kReasonEvents = 3;        // events cited per intent

std::string Hex64(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void SetMillis(google::protobuf::Timestamp* ts, int64_t ms) {
  const int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  ts->set_seconds(s);
  ts->set_nanos(static_cast<int32_t>(ms - s * 1000) * 1000000);
}

// Explanations format a handful of numbers per decision: to_chars, not printf (which was
// a measurable share of a decision).
std::string Fixed(double v, int digits = 2) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, digits);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::string("nan");
}

Arm ArmOf(std::string_view customer_id, double holdout_percent) {
  return InHoldout(customer_id, holdout_percent) ? Arm::kHoldout : Arm::kTreated;
}

bool IsHomeTrigger(const v1::AppEvent& e) {
  return e.action() == v1::APP_ACTION_LOGIN ||
         (e.action() == v1::APP_ACTION_SCREEN_VIEW && e.screen() == "home");
}

std::string DescribeEvent(const v1::SessionEvent& e) {
  std::string type = e.source() == v1::SOURCE_WEB
                         ? v1::WebEventType_Name(static_cast<v1::WebEventType>(e.event_type()))
                         : v1::AppAction_Name(static_cast<v1::AppAction>(e.event_type()));
  for (const char* prefix : {"WEB_EVENT_TYPE_", "APP_ACTION_"}) {
    if (type.rfind(prefix, 0) == 0) type = type.substr(std::string_view(prefix).size());
  }
  std::string out = (e.source() == v1::SOURCE_WEB ? "web " : "app ") + type;
  if (!e.category().empty()) out += " " + e.category();
  if (!e.product().empty()) out += " [" + e.product() + "]";
  return out;
}

// What the operator derives from one catalogue version.
struct CatalogView {
  CatalogView(std::shared_ptr<const catalog::Catalog> c, const op::IntentModel* model,
              const op::PropensityModel* propensity, const DecisionOptions& options)
      : catalog(std::move(c)),
        matcher(std::make_shared<IntentMatcher>(catalog)),
        features(matcher),
        rules(matcher) {
    if (options.messages) {
      messages = std::make_unique<MessageRenderer>(catalog, options.message_cache_entries);
    }
    for (size_t i = 0; i < catalog->offers().size(); ++i) {
      const auto& o = catalog->offers()[i];
      for (size_t ch = 0; ch < catalog::kChannelCount; ++ch) {
        if (o.channels[ch]) by_channel[ch].push_back(static_cast<int>(i));
      }
    }
    if (model != nullptr) {
      for (const auto& id : model->intents()) model_to_catalog.push_back(catalog->FindIntent(id));
    }
    if (propensity != nullptr) {
      // The offer model's view of this catalogue: offers it was not trained on get their
      // cold-start representation here, once per version.
      prepared = propensity->Prepare(ScoringLayoutOf(*catalog, features));
      known.resize(catalog->offers().size());
      for (size_t i = 0; i < known.size(); ++i) {
        known[i] = propensity->Knows(catalog->offers()[i].id);
      }
    }
  }
  std::shared_ptr<const catalog::Catalog> catalog;
  std::shared_ptr<const IntentMatcher> matcher;
  FeatureBuilder features;
  RuleIntentScorer rules;
  std::array<std::vector<int>, catalog::kChannelCount> by_channel;
  std::vector<int> model_to_catalog;          // model output -> catalogue intent, -1 if absent
  std::unique_ptr<MessageRenderer> messages;  // null: messages are the headlines
  std::shared_ptr<const op::PreparedLayout> prepared;  // the offer model's, when loaded
  std::vector<bool> known;  // per offer: the offer model was trained on it
};

// Modification times of a catalogue directory's files, to notice a new version.
std::string DirectoryStamp(const std::string& dir) {
  std::string stamp;
  std::error_code ec;
  for (const char* name : {"taxonomy.jsonl", "products.jsonl", "offers.jsonl", "documents.jsonl"}) {
    const auto p = std::filesystem::path(dir) / name;
    const auto t = std::filesystem::last_write_time(p, ec);
    const auto size = std::filesystem::file_size(p, ec);
    stamp += std::to_string(ec ? 0 : t.time_since_epoch().count()) + ":" +
             std::to_string(ec ? 0 : size) + ";";
  }
  return stamp;
}

}  // namespace

class DecisionOperator::Impl {
 public:
  Impl(DecisionOptions options, std::shared_ptr<const catalog::Catalog> catalog,
       DecisionModels models, DecisionMetrics* metrics, const Logger& log,
       std::atomic<bool>* reload)
      : options_(std::move(options)),
        models_(std::move(models)),
        metrics_(metrics),
        log_(log),
        reload_(reload),
        policy_version_(options_.Version()),
        rules_(AllRules()),
        fairness_(options_.fairness, catalog->offers().size()) {
    if (options_.rephrase.enabled) {
      if (models_.chat == nullptr) {
        throw ConfigError("decision.messages.rephrase.enabled",
                          "rephrasing needs a chat-completions client, and none is configured");
      }
      if (!options_.messages) {
        throw ConfigError("decision.messages.rephrase.enabled",
                          "rephrasing needs decision.messages.enabled = true");
      }
      rephraser_ = std::make_unique<Rephraser>(options_, *models_.chat, metrics_, log_);
    }
    if (metrics_ != nullptr) metrics_->FairnessGroups(fairness_.groups());
    Install(std::move(catalog));
    if (!options_.catalog_dir.empty()) stamp_ = DirectoryStamp(options_.catalog_dir);
  }
  ~Impl() { FreshDecision(); }

  void SetCatalog(std::shared_ptr<const catalog::Catalog> c) {
    std::lock_guard lock(pending_mu_);
    pending_ = std::move(c);
  }
  std::shared_ptr<const catalog::Catalog> catalog() const { return view_->catalog; }
  const DecisionOptions& options() const { return options_; }
  DecisionOperator::MessageCacheStats message_cache_stats() const {
    if (!view_->messages) return {};
    const auto s = view_->messages->cache_stats();
    return {s.hits, s.misses};
  }

  void Decide(std::span<op::VisitorUpdate> updates, op::StateWriter& state,
              op::DecisionSink& sink) {
    TakePendingCatalog();
    MaybeReload();
    if (rephraser_) rephrases_ = rephraser_->Snapshot();
    const size_t intents = view_->catalog->intents().size();
    ScoreIntents(updates, intents);
    ScoreHomePropensities(updates, state);
    for (size_t i = 0; i < updates.size(); ++i) {
      Handle(updates[i], std::span<const float>(scores_.data() + i * intents, intents), state,
             sink);
    }
    FreshDecision();  // nothing stays lent between steps (a reload may replace the renderer)
  }

  void Flush(op::StateWriter& state) {
    for (auto& [task, table] : tables_) {
      if (table.dirty()) state.PutTaskValue(task, kPosteriorsName, table.Serialize());
    }
    PublishFairness();
  }

  void ForgetTasks() { tables_.clear(); }

 private:
  void Install(std::shared_ptr<const catalog::Catalog> c) {
    view_ =
        std::make_shared<CatalogView>(std::move(c), models_.intents, models_.propensity, options_);
    fairness_.Reset(view_->catalog->offers().size());
    if (rephraser_) {
      std::vector<std::string> personas = {kAllSegment};
      if (models_.propensity != nullptr && !models_.propensity->personas().empty()) {
        personas = models_.propensity->personas();
      }
      rephraser_->SetCatalog(view_->catalog, std::move(personas));
      rephrases_ = rephraser_->Snapshot();
    }
    cat_ids_.clear();
    for (const auto& i : view_->catalog->intents()) cat_ids_.push_back(i.id);
    if (metrics_ != nullptr) {
      std::vector<std::string> offers, intents;
      for (const auto& o : view_->catalog->offers()) offers.push_back(o.id);
      for (const auto& i : view_->catalog->intents()) intents.push_back(i.id);
      metrics_->Catalogue(offers, intents, rules_);
    }
  }

  void TakePendingCatalog() {
    std::shared_ptr<const catalog::Catalog> next;
    {
      std::lock_guard lock(pending_mu_);
      next.swap(pending_);
    }
    if (next) {
      log_.Info("catalogue replaced",
                {{"from", view_->catalog->version()}, {"to", next->version()}});
      Install(std::move(next));
    }
  }

  // A new version of the catalogue directory takes over between steps; a broken one is
  // refused with the loader's message and the current one stays.
  void MaybeReload() {
    if (options_.catalog_dir.empty()) return;
    const bool requested = reload_ != nullptr && reload_->exchange(false);
    const int64_t now = SteadyMicros() / 1000;
    if (!requested && now - last_check_ms_ < options_.catalog_reload_check_ms) return;
    last_check_ms_ = now;
    const std::string stamp = DirectoryStamp(options_.catalog_dir);
    if (!requested && stamp == stamp_) return;
    stamp_ = stamp;
    try {
      auto next = catalog::LoadCatalog(options_.catalog_dir);
      CheckOptions(options_, *next);
      if (next->version() == view_->catalog->version()) return;
      log_.Info("catalogue reloaded", {{"from", view_->catalog->version()},
                                       {"to", next->version()},
                                       {"offers", std::to_string(next->offers().size())}});
      Install(std::move(next));
      if (metrics_ != nullptr) metrics_->CatalogueReload(true);
    } catch (const std::exception& e) {
      log_.Error("catalogue reload refused; keeping the current version",
                 {{"version", view_->catalog->version()}, {"error", e.what()}});
      if (metrics_ != nullptr) metrics_->CatalogueReload(false);
    }
  }

  void ScoreIntents(std::span<op::VisitorUpdate> updates, size_t intents) {
    scores_.assign(updates.size() * intents, 0.0f);
    // Rules for every visitor (the explanation and the fallback), then the model's
    // scores where it has them.
    for (size_t i = 0; i < updates.size(); ++i) {
      const auto& u = updates[i];
      const auto& events = u.state->events();
      const std::span<const v1::SessionEvent* const> ptrs(events.data(),
                                                          static_cast<size_t>(events.size()));
      view_->rules.Score(ptrs, AsOf(u), std::span<float>(scores_.data() + i * intents, intents));
    }
    const op::IntentModel* model = models_.intents;
    if (model == nullptr) return;
    const size_t d = model->embedding_dim();
    const size_t k = model->intents().size();
    embeddings_.clear();
    rows_.clear();
    for (size_t i = 0; i < updates.size(); ++i) {
      const std::string& bytes = updates[i].state->embedding();
      if (bytes.size() != d * sizeof(float)) continue;
      const size_t at = embeddings_.size();
      embeddings_.resize(at + d);
      std::memcpy(embeddings_.data() + at, bytes.data(), bytes.size());
      rows_.push_back(i);
    }
    if (rows_.empty()) return;
    model_out_.assign(rows_.size() * k, 0.0f);
    model->Score(embeddings_, rows_.size(), model_out_);
    for (size_t r = 0; r < rows_.size(); ++r) {
      for (size_t j = 0; j < k; ++j) {
        const int ci = view_->model_to_catalog[j];
        if (ci >= 0) scores_[rows_[r] * intents + static_cast<size_t>(ci)] = model_out_[r * k + j];
      }
    }
  }

  static int64_t AsOf(const op::VisitorUpdate& u) {
    return u.event.kind != op::StepEvent::Kind::kNone ? u.event.time_ms : u.state->last_event_ms();
  }

  PosteriorTable& Table(int32_t task, op::StateWriter& state) {
    auto it = tables_.find(task);
    if (it != tables_.end()) return it->second;
    auto [slot, inserted] =
        tables_.try_emplace(task, options_.posterior_bucket_ms, options_.posterior_buckets);
    if (const std::string* bytes = state.TaskValue(task, kPosteriorsName)) {
      if (!slot->second.Parse(*bytes)) {
        log_.Error("corrupt posteriors ignored", {{"task", std::to_string(task)}});
      }
    }
    return slot->second;
  }

  void Handle(op::VisitorUpdate& u, std::span<const float> scores, op::StateWriter& state,
              op::DecisionSink& sink) {
    const auto& cat = *view_->catalog;
    v1::VisitorState* st = u.state;
    const int64_t t = AsOf(u);
    // Previous scores (for threshold crossings), then the new ones into the state.
    prev_.assign(scores.size(), 0.0f);
    for (const auto& s : st->intents()) {
      const int i = cat.FindIntent(s.intent());
      if (i >= 0) prev_[static_cast<size_t>(i)] = s.score();
    }
    StoreIntents(st, scores, t);
    if (u.customer_id.empty()) return;  // anonymous visitors: intents only

    PosteriorTable& table = Table(u.task, state);
    const v1::AppEvent* app = u.event.app;
    const Arm arm = ArmOf(u.customer_id, options_.holdout_percent);
    if (app != nullptr) {
      const auto a = app->action();
      const bool feedback = !app->offer_id().empty() || a == v1::APP_ACTION_APPLICATION_START ||
                            a == v1::APP_ACTION_APPLICATION_COMPLETE;
      if (feedback) {
        const auto r =
            ApplyFeedback(cat, options_, *app, t, &state.MutableOffers(u.customer_id), &table);
        if (metrics_ != nullptr) {
          if (r.outcome == FeedbackOutcome::kUnknownOffer) {
            metrics_->UnknownOfferFeedback();
          } else if (r.outcome == FeedbackOutcome::kApplied && r.offer >= 0) {
            const Feedback kind = r.conversion                          ? Feedback::kConversion
                                  : a == v1::APP_ACTION_TILE_IMPRESSION ? Feedback::kImpression
                                  : a == v1::APP_ACTION_TILE_CLICK      ? Feedback::kClick
                                  : a == v1::APP_ACTION_TILE_DISMISS    ? Feedback::kDismissal
                                                                        : Feedback::kConversion;
            if (a != v1::APP_ACTION_APPLICATION_START) metrics_->FeedbackEvent(r.offer, arm, kind);
          }
        }
        if (r.outcome == FeedbackOutcome::kUnknownOffer && unknown_logged_ < 10) {
          ++unknown_logged_;
          log_.Warn("feedback for an offer the catalogue does not have; counted and ignored",
                    {{"offer_id", app->offer_id()},
                     {"event_id", app->event_id()},
                     {"catalogue", cat.version()}});
        }
      }
    }
    if (u.event.kind == op::StepEvent::Kind::kApp ||
        u.event.kind == op::StepEvent::Kind::kHandoff) {
      CheckTriggers(u, scores, t, arm, table, state, sink);
    }
    if (app != nullptr && IsHomeTrigger(*app)) {
      const auto& offers = state.Offers(u.customer_id);
      if (offers.last_home_decision_ms() == 0 ||
          t - offers.last_home_decision_ms() >= options_.home_min_interval_ms ||
          t < offers.last_home_decision_ms()) {
        v1::Decision& d = FreshDecision();
        MakeDecision(u, catalog::Channel::kHomeTile,
                     view_->by_channel[static_cast<size_t>(catalog::Channel::kHomeTile)], t,
                     app->event_id(), scores, arm, table, state, /*allow_fallback=*/true, &d);
        state.MutableOffers(u.customer_id).set_last_home_decision_ms(t);
        sink.Emit(d);
      }
    }
  }

  // The skews of the fairness window, to the metrics.
  void PublishFairness() {
    if (metrics_ == nullptr) return;
    fairness_.Skews(&skews_);
    const size_t groups = fairness_.groups().size();
    for (size_t o = 0; o < fairness_.offers(); ++o) {
      for (size_t g = 0; g < groups; ++g) {
        metrics_->ParitySkew(static_cast<int>(o), g, skews_[o * groups + g]);
      }
    }
    const auto tiles = fairness_.GroupTiles();
    for (size_t g = 0; g < groups; ++g) {
      metrics_->FairnessWindowTiles(g, static_cast<double>(tiles[g]));
    }
  }

  // The one Decision object every decision is made in: cleared, it keeps its strings and
  // sub-messages allocated. Messages lent to its tiles go back first (messages.h Put).
  v1::Decision& FreshDecision() {
    if (view_->messages) view_->messages->Reclaim();
    decision_.Clear();
    return decision_;
  }

  void StoreIntents(v1::VisitorState* st, std::span<const float> scores, int64_t t) const {
    st->clear_intents();
    std::vector<std::pair<float, size_t>> top;
    for (size_t i = 0; i < scores.size(); ++i) {
      if (scores[i] >= kMinStoredIntent) top.emplace_back(scores[i], i);
    }
    std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    st->set_intents_time_ms(t);
    for (size_t k = 0; k < top.size() && k < kStoredIntents; ++k) {
      auto* is = st->add_intents();
      is->set_intent(cat_ids_[top[k].second]);
      is->set_score(top[k].first);
    }
  }

  void CheckTriggers(op::VisitorUpdate& u, std::span<const float> scores, int64_t t, Arm arm,
                     PosteriorTable& table, op::StateWriter& state, op::DecisionSink& sink) {
    const auto& cat = *view_->catalog;
    for (size_t i = 0; i < scores.size(); ++i) {
      const auto& intent = cat.intents()[i];
      if (!intent.marketing) continue;
      const double threshold = options_.ThresholdOf(intent.id);
      if (!(scores[i] >= threshold && prev_[i] < threshold)) continue;
      // Cooldown per customer and intent (event time).
      const auto& offers = state.Offers(u.customer_id);
      int64_t last = 0;
      for (const auto& c : offers.cooldowns()) {
        if (c.intent() == intent.id) last = c.last_trigger_ms();
      }
      if (last > 0 && t >= last && t - last < options_.CooldownOf(intent.id)) {
        if (metrics_ != nullptr) metrics_->TriggerSuppressed(static_cast<int>(i), "cooldown");
        continue;
      }
      std::string why;
      for (const auto& channel_name : options_.trigger_channels) {
        const auto channel = *catalog::ChannelFromName(channel_name);
        candidates_.clear();
        for (int o : intent.offers) {
          if (cat.offers()[static_cast<size_t>(o)].channels[static_cast<size_t>(channel)]) {
            candidates_.push_back(o);
          }
        }
        if (candidates_.empty()) continue;
        v1::Decision& d = FreshDecision();
        // A hand-off step has no event id: its hand-off id keeps decision ids distinct
        // (they name the decision, across customers too).
        const std::string trigger_key =
            (!u.event.event_id.empty()    ? std::string(u.event.event_id)
             : u.event.handoff != nullptr ? "handoff:" + u.event.handoff->handoff_id()
                                          : std::string("handoff")) +
            "|" + intent.id;
        MakeDecision(u, channel, candidates_, t, trigger_key, scores, arm, table, state,
                     /*allow_fallback=*/false, &d);
        if (d.offers_size() == 0) {
          if (why.empty() && d.removed_size() > 0) why = d.removed(0).rule();
          sink.Emit(d);  // the audit of why nothing was sent
          continue;
        }
        v1::Trigger& trig = trigger_;
        trig.Clear();
        trig.set_trigger_id("t-" + Hex64(Fnv1a64(std::string(u.customer_id) + "|" + trigger_key)));
        trig.set_customer_id(std::string(u.customer_id));
        trig.set_intent(intent.id);
        trig.set_offer_id(d.offers(0).offer_id());
        trig.set_channel(channel_name);
        trig.set_decision_id(d.decision_id());
        SetMillis(trig.mutable_created_time(), t);
        SetMillis(trig.mutable_expires_time(), t + options_.CooldownOf(intent.id));
        trig.set_dedup_key(std::string(u.customer_id) + "|" + intent.id + "|" +
                           d.offers(0).offer_id());
        trig.set_score(scores[i]);
        trig.set_threshold(static_cast<float>(threshold));
        trig.set_message(d.offers(0).message());
        *trig.mutable_citations() = d.offers(0).citations();
        trig.set_arm(ArmName(arm));
        for (const auto& r : d.reasons()) {
          if (r.code() == "INTENT" && r.description().rfind(intent.id, 0) == 0) {
            for (const auto& id : r.event_ids()) trig.add_event_ids(id);
          }
        }
        auto& mutable_offers = state.MutableOffers(u.customer_id);
        bool found = false;
        for (auto& c : *mutable_offers.mutable_cooldowns()) {
          if (c.intent() == intent.id) {
            c.set_last_trigger_ms(t);
            found = true;
          }
        }
        if (!found) {
          auto* c = mutable_offers.add_cooldowns();
          c->set_intent(intent.id);
          c->set_last_trigger_ms(t);
        }
        AddContact(&mutable_offers, options_, t, channel, d.offers(0).offer_id());
        sink.Emit(d);
        sink.Emit(trig);
        if (metrics_ != nullptr) metrics_->Trigger(static_cast<int>(i));
        why.clear();
        break;
      }
      if (!why.empty() && metrics_ != nullptr)
        metrics_->TriggerSuppressed(static_cast<int>(i), why);
    }
  }

  void MakeDecision(op::VisitorUpdate& u, catalog::Channel placement,
                    std::span<const int> candidates, int64_t t, const std::string& trigger_key,
                    std::span<const float> scores, Arm arm, PosteriorTable& table,
                    op::StateWriter& state, bool allow_fallback, v1::Decision* d) {
    const auto started = std::chrono::steady_clock::now();
    const auto& cat = *view_->catalog;
    const std::string customer(u.customer_id);
    const std::string placement_name(catalog::ChannelName(placement));
    const v1::CustomerProfile* profile = state.Profile(customer);
    const ProfileFacts facts = FactsOf(profile, cat);
    const v1::CustomerOffers& offers = state.Offers(customer);

    d->set_decision_id("d-" + Hex64(Fnv1a64(trigger_key + "|" + placement_name)));
    d->set_visitor_id(customer);
    d->set_customer_id(customer);
    d->set_trigger_event_id(std::string(u.event.event_id));
    SetMillis(d->mutable_decided_time(), WallMillis());
    SetMillis(d->mutable_trigger_time(), t);
    d->set_placement(placement_name);
    d->set_arm(ArmName(arm));
    d->set_model_version(models_.encoder_version);
    d->set_catalogue_version(cat.version());
    d->set_taxonomy_version(cat.taxonomy_version());
    d->set_intent_model_version(models_.intents != nullptr ? models_.intents->version()
                                                           : RuleIntentScorer::Version());
    d->set_offer_model_version(models_.propensity != nullptr ? models_.propensity->version() : "");
    d->set_policy_version(policy_version_);
    const uint64_t seed = Fnv1a64(d->decision_id());
    d->set_seed(seed);
    // Intents, descending.
    std::vector<size_t> order(scores.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    for (size_t i : order) {
      if (scores[i] < kMinStoredIntent) break;
      auto* is = d->add_intents();
      is->set_intent(cat.intents()[i].id);
      is->set_score(scores[i]);
    }

    // What messages are rendered for: this visitor's intents and recent search terms.
    message_scores_ = scores;
    if (view_->messages) view_->messages->RecentTerms(*u.state, &message_terms_);

    // Policy.
    survivors_.clear();
    removals_.clear();
    PolicyInput in;
    in.placement = placement;
    in.time_ms = t;
    in.profile = profile;
    in.facts = &facts;
    in.offers = &offers;
    in.intents = scores;
    ApplyPolicy(cat, options_, in, candidates, &survivors_, &removals_);
    for (const auto& r : removals_) {
      auto* pr = d->add_removed();
      pr->set_offer_id(cat.offers()[static_cast<size_t>(r.offer)].id);
      pr->set_rule(r.rule);
      pr->set_detail(r.detail);
      if (metrics_ != nullptr) {
        const auto it = std::find(rules_.begin(), rules_.end(), r.rule);
        if (it != rules_.end()) metrics_->Removed(static_cast<size_t>(it - rules_.begin()));
      }
    }

    // Propensity (the learned model as the posteriors' prior, when loaded).
    std::string segment = kAllSegment;
    model_p_.assign(survivors_.size(), -1.0f);
    if (models_.propensity != nullptr && !survivors_.empty()) {
      ScoreWithModel(u, placement, facts, scores, t, &segment);
    }
    d->set_persona(segment);
    message_persona_ = segment;
    ranking_.clear();
    posteriors_.clear();
    weights_.clear();
    for (size_t s = 0; s < survivors_.size(); ++s) {
      const auto& offer = cat.offers()[static_cast<size_t>(survivors_[s])];
      const BetaCounts overall = table.AsOf(offer.id, kAllSegment, t);
      BetaCounts seg;
      if (segment != kAllSegment) seg = table.AsOf(offer.id, segment, t);
      const Posterior post = OfferPosterior(
          options_, overall, segment != kAllSegment ? &seg : nullptr, FindOffer(offers, offer.id),
          model_p_[s], IsKnown(survivors_[s]) ? kModelPriorStrength : kColdStartPriorStrength);
      const double cw = ContextWeight(options_, placement, offer, scores);
      posteriors_.push_back(post);
      weights_.push_back(cw);
      ranking_.push_back({post.alpha, post.beta, cw * offer.value * options_.LeverOf(offer.id),
                          static_cast<uint32_t>(survivors_[s])});
    }

    // Arbitration and exploration.
    const size_t k = placement == catalog::Channel::kHomeTile
                         ? static_cast<size_t>(options_.home_tiles)
                         : size_t{1};
    std::vector<int> order_of;
    std::vector<double> logging;
    bool explored = false;
    if (arm == Arm::kHoldout) {
      order_of.resize(survivors_.size());
      for (size_t i = 0; i < order_of.size(); ++i) order_of[i] = static_cast<int>(i);
      std::stable_sort(order_of.begin(), order_of.end(), [&](int a, int b) {
        return cat.offers()[static_cast<size_t>(survivors_[static_cast<size_t>(a)])].priority >
               cat.offers()[static_cast<size_t>(survivors_[static_cast<size_t>(b)])].priority;
      });
      logging.assign(std::min(k, order_of.size()), 1.0);
    } else {
      Rng rng(seed);
      explored = options_.exploration_share > 0 && rng.Uniform() < options_.exploration_share;
      order_of = explored ? SampledRanking(ranking_, rng) : ExploitRanking(ranking_);
      logging = LoggingPropensities(ranking_, order_of, k, options_.exploration_share, explored,
                                    logging_draws_);
    }
    d->set_exploration(explored);
    const size_t shown = std::min(k, order_of.size());
    auto& mutable_offers = state.MutableOffers(customer);
    for (size_t r = 0; r < shown; ++r) {
      const size_t s = static_cast<size_t>(order_of[r]);
      const int idx = survivors_[s];
      AddRanked(idx, static_cast<uint32_t>(r + 1), posteriors_[s], weights_[s],
                model_p_[s] < 0          ? "posterior"
                : IsKnown(survivors_[s]) ? "model+posterior"
                                         : "cold-start+posterior",
                logging[r], explored, d);
      MutableOffer(&mutable_offers, cat.offers()[static_cast<size_t>(idx)].id).set_segment(segment);
      if (metrics_ != nullptr) metrics_->Shown(idx, arm);
    }
    if (shown == 0 && allow_fallback) AddFallback(cat, placement, d);
    if (placement == catalog::Channel::kHomeTile) {
      const size_t group = fairness_.GroupOf(profile);  // monitoring only, after the fact
      for (const auto& ro : d->offers()) fairness_.Shown(group, cat.FindOffer(ro.offer_id()), t);
    }
    mutable_offers.set_decisions(mutable_offers.decisions() + 1);
    Explain(u, profile, arm, explored, d);
    d->set_processing_latency_us(u.arrival_us > 0 ? static_cast<uint64_t>(std::max<int64_t>(
                                                        0, SteadyMicros() - u.arrival_us))
                                                  : 0);
    state.PutDecision(customer, placement_name, *d);
    if (metrics_ != nullptr) {
      metrics_->Decision(
          static_cast<int>(placement), arm, explored, d->fallback(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
  }

  // Whether the offer model was trained on the catalogue's offer `idx` (else its
  // propensity is the cold-start estimate, a weaker prior).
  bool IsKnown(int idx) const {
    return static_cast<size_t>(idx) < view_->known.size() && view_->known[static_cast<size_t>(idx)];
  }

  // The offer model's inputs of one visitor, into `row` of the scratch blocks. The
  // embedding is appended to request_embeddings_; SetEmbeddings points the requests at it
  // once all are filled (the vector may move while it grows).
  void FillRequest(op::VisitorUpdate& u, const ProfileFacts& facts, std::span<const float> scores,
                   int64_t t, size_t row, op::PropensityRequest* req) {
    const size_t p = view_->features.profile_size(), n = view_->features.session_size();
    const size_t d = u.state->embedding().size() / sizeof(float);
    std::span<float> profile(profile_features_.data() + row * p, p);
    std::span<float> session(session_features_.data() + row * n, n);
    view_->features.Profile(facts, profile);
    view_->features.Session(*u.state, t, session);
    embedding_at_.push_back(request_embeddings_.size());
    request_embeddings_.resize(request_embeddings_.size() + d);
    std::memcpy(request_embeddings_.data() + embedding_at_.back(), u.state->embedding().data(),
                d * sizeof(float));
    req->intents = scores;
    req->profile = profile;
    req->session = session;
  }
  void SetEmbeddings(std::span<op::PropensityRequest> requests) {
    for (size_t r = 0; r < requests.size(); ++r) {
      const size_t end =
          r + 1 < embedding_at_.size() ? embedding_at_[r + 1] : request_embeddings_.size();
      requests[r].embedding = std::span<const float>(request_embeddings_.data() + embedding_at_[r],
                                                     end - embedding_at_[r]);
    }
  }

  // Home decisions of a step share one call of the offer model: the visitor-side part runs
  // once per visitor for all of them, each of the home placement's offers adds a dot
  // product. Trigger decisions (rare) score on their own in ScoreWithModel.
  void ScoreHomePropensities(std::span<op::VisitorUpdate> updates, op::StateWriter& state) {
    home_row_.assign(updates.size(), -1);
    current_updates_ = updates;
    const op::PropensityModel* model = models_.propensity;
    if (model == nullptr) return;
    const auto& home = view_->by_channel[static_cast<size_t>(catalog::Channel::kHomeTile)];
    std::vector<size_t> rows;
    for (size_t i = 0; i < updates.size(); ++i) {
      const auto& u = updates[i];
      if (!u.customer_id.empty() && u.event.app != nullptr && IsHomeTrigger(*u.event.app)) {
        rows.push_back(i);
      }
    }
    if (rows.empty() || home.empty()) return;
    const size_t n = rows.size();
    profile_features_.assign(n * view_->features.profile_size(), 0.0f);
    session_features_.assign(n * view_->features.session_size(), 0.0f);
    request_embeddings_.clear();
    embedding_at_.clear();
    home_out_.assign(n * home.size(), -1.0f);
    requests_.assign(n, op::PropensityRequest{});
    const size_t intents = view_->catalog->intents().size();
    for (size_t r = 0; r < n; ++r) {
      auto& u = updates[rows[r]];
      const ProfileFacts facts = FactsOf(state.Profile(u.customer_id), *view_->catalog);
      FillRequest(u, facts, std::span<const float>(scores_.data() + rows[r] * intents, intents),
                  AsOf(u), r, &requests_[r]);
      requests_[r].offers = home;
      requests_[r].out = std::span<float>(home_out_.data() + r * home.size(), home.size());
      home_row_[rows[r]] = static_cast<int>(r);
    }
    SetEmbeddings(requests_);
    model->Score(*view_->prepared, requests_);
    home_persona_.resize(n);
    for (size_t r = 0; r < n; ++r) home_persona_[r] = requests_[r].persona;
  }

  void ScoreWithModel(op::VisitorUpdate& u, catalog::Channel placement, const ProfileFacts& facts,
                      std::span<const float> scores, int64_t t, std::string* segment) {
    const op::PropensityModel& model = *models_.propensity;
    int persona = -1;
    const std::ptrdiff_t index = &u - current_updates_.data();
    const int home_row = placement == catalog::Channel::kHomeTile && index >= 0 &&
                                 static_cast<size_t>(index) < home_row_.size()
                             ? home_row_[static_cast<size_t>(index)]
                             : -1;
    if (home_row >= 0) {
      // Scored with the step's other home decisions (ScoreHomePropensities).
      const auto& home = view_->by_channel[static_cast<size_t>(catalog::Channel::kHomeTile)];
      const float* out = home_out_.data() + static_cast<size_t>(home_row) * home.size();
      for (size_t s = 0; s < survivors_.size(); ++s) {
        const auto it = std::lower_bound(home.begin(), home.end(), survivors_[s]);
        if (it != home.end() && *it == survivors_[s]) model_p_[s] = out[it - home.begin()];
      }
      persona = home_persona_[static_cast<size_t>(home_row)];
    } else {
      profile_features_.assign(view_->features.profile_size(), 0.0f);
      session_features_.assign(view_->features.session_size(), 0.0f);
      request_embeddings_.clear();
      embedding_at_.clear();
      model_out_.assign(survivors_.size(), -1.0f);
      op::PropensityRequest req;
      FillRequest(u, facts, scores, t, 0, &req);
      SetEmbeddings(std::span<op::PropensityRequest>(&req, 1));
      req.offers = survivors_;
      req.out = model_out_;
      model.Score(*view_->prepared, std::span<op::PropensityRequest>(&req, 1));
      for (size_t s = 0; s < survivors_.size(); ++s) model_p_[s] = model_out_[s];
      persona = req.persona;
    }
    if (persona >= 0 && static_cast<size_t>(persona) < model.personas().size()) {
      *segment = model.personas()[static_cast<size_t>(persona)];
      u.state->set_persona(*segment);
    }
  }

  void AddRanked(int index, uint32_t rank, const Posterior& post, double cw, const char* source,
                 double logging, bool explored, v1::Decision* d) {
    const auto& cat = *view_->catalog;
    const catalog::Offer& offer = cat.offers()[static_cast<size_t>(index)];
    auto* ro = d->add_offers();
    ro->set_offer_id(offer.id);
    if (offer.product >= 0)
      ro->set_product_code(cat.products()[static_cast<size_t>(offer.product)].code);
    ro->set_rank(rank);
    ro->set_score(static_cast<float>(post.mean()));
    ro->set_tile_id(offer.tile);
    ro->set_headline(offer.headline);
    if (view_->messages) {
      MessageRenderer& m = *view_->messages;
      const int intent = m.FocusIntent(index, message_scores_);
      const std::string* rephrased = nullptr;
      if (rephrases_ != nullptr && !rephrases_->entries.empty() &&
          rephrases_->catalogue_version == cat.version()) {
        const auto& rendered = m.Render(index, intent, message_terms_);
        rephrased = rephrases_->Find(index, message_persona_, intent, rendered.body);
        if (rephrased != nullptr) m.Fill(rendered, *rephrased, ro);
      }
      if (rephrased == nullptr) m.Put(index, intent, message_terms_, ro);
      if (metrics_ != nullptr) metrics_->MessageShown(rephrased != nullptr);
    } else {
      ro->set_message(offer.headline);
    }
    FillFactors(options_, offer, post, cw, source, ro->mutable_factors());
    ro->set_logging_propensity(static_cast<float>(logging));
    ro->set_explored(explored);
  }

  void AddFallback(const catalog::Catalog& cat, catalog::Channel placement, v1::Decision* d) {
    int best = -1;
    for (int idx : view_->by_channel[static_cast<size_t>(placement)]) {
      const auto& o = cat.offers()[static_cast<size_t>(idx)];
      if (!o.fallback) continue;
      // A fallback the policy removed for a hard reason (eligibility, consent) stays out.
      bool hard = false;
      for (const auto& r : removals_) {
        if (r.offer == idx && (std::string_view(r.rule) == rule::kIneligible ||
                               std::string_view(r.rule) == rule::kNoConsent ||
                               std::string_view(r.rule) == rule::kOptedOut)) {
          hard = true;
        }
      }
      if (hard) continue;
      if (best < 0 || o.priority > cat.offers()[static_cast<size_t>(best)].priority) best = idx;
    }
    if (best < 0) return;
    const Posterior prior{options_.prior_alpha, options_.prior_beta};
    AddRanked(best, 1, prior, 1.0, "static", 1.0, false, d);
    d->set_fallback(true);
  }

  void Explain(op::VisitorUpdate& u, const v1::CustomerProfile* profile, Arm arm, bool explored,
               v1::Decision* d) {
    const auto& cat = *view_->catalog;
    const auto& events = u.state->events();
    const std::span<const v1::SessionEvent* const> ptrs(events.data(),
                                                        static_cast<size_t>(events.size()));
    // The top intents and the recent events behind them.
    for (int n = 0; n < d->intents_size() && n < 3; ++n) {
      const auto& is = d->intents(n);
      if (is.score() < 0.2f) break;
      const int i = cat.FindIntent(is.intent());
      auto* r = d->add_reasons();
      r->set_code("INTENT");
      std::string desc = is.intent() + " " + Fixed(is.score());
      const auto drivers = view_->rules.Drivers(ptrs, i, kReasonEvents);
      if (!drivers.empty()) desc += " from";
      for (size_t k = 0; k < drivers.size(); ++k) {
        desc += (k == 0 ? " " : "; ") + DescribeEvent(*drivers[k]);
        r->add_event_ids("key:" + Hex64(drivers[k]->event_key()));
      }
      r->set_description(desc);
    }
    if (d->offers_size() > 0) {
      const auto& top = d->offers(0);
      const auto& f = top.factors();
      auto* r = d->add_reasons();
      r->set_code("TOP_OFFER");
      r->set_description(top.offer_id() + ": priority " + Fixed(f.priority(), 3) +
                         " = propensity " + Fixed(f.propensity(), 4) + " x context " +
                         Fixed(f.context_weight()) + " x value " + Fixed(f.value(), 0) +
                         " x lever " + Fixed(f.lever()));
      if (!u.event.event_id.empty()) r->add_event_ids(std::string(u.event.event_id));
    }
    {
      auto* r = d->add_reasons();
      r->set_code("PROFILE");
      uint32_t used = 0;
      for (const auto& ro : d->offers()) {
        const int idx = cat.FindOffer(ro.offer_id());
        if (idx >= 0) used |= cat.offers()[static_cast<size_t>(idx)].eligibility.fields_used();
      }
      std::string desc = profile == nullptr ? "no profile: cold-start ranking" : "profile known";
      if (used != 0) desc += "; eligibility read " + catalog::MissingFieldNames(used);
      if (models_.propensity != nullptr) desc += "; offer model read the profile features";
      r->set_description(desc);
    }
    {
      auto* r = d->add_reasons();
      r->set_code("ARM");
      r->set_description(arm == Arm::kHoldout
                             ? "holdout: the catalogue's static priority (for lift)"
                         : explored ? "treated: ranked by Thompson samples (exploration)"
                                    : "treated: ranked by posterior-mean priority");
    }
    if (d->removed_size() > 0) {
      std::map<std::string, int> by_rule;
      for (const auto& rm : d->removed()) ++by_rule[rm.rule()];
      std::string desc;
      for (const auto& [rule, n] : by_rule) {
        desc += (desc.empty() ? "" : ", ") + rule + " x" + std::to_string(n);
      }
      auto* r = d->add_reasons();
      r->set_code("POLICY");
      r->set_description(std::to_string(d->removed_size()) + " offers removed: " + desc);
    }
  }

  DecisionOptions options_;
  DecisionModels models_;
  DecisionMetrics* metrics_;
  Logger log_;
  std::atomic<bool>* reload_;
  std::string policy_version_;
  std::vector<std::string> rules_;
  std::shared_ptr<CatalogView> view_;
  std::mutex pending_mu_;  // SetCatalog may come from another thread
  std::shared_ptr<const catalog::Catalog> pending_;
  std::string stamp_;
  int64_t last_check_ms_ = 0;
  std::map<int32_t, PosteriorTable> tables_;
  std::vector<std::string> cat_ids_;  // intent ids of the current catalogue
  int unknown_logged_ = 0;
  // Scratch, reused across decisions.
  std::vector<float> scores_, prev_, embeddings_, model_out_, model_p_, profile_features_,
      session_features_, request_embeddings_;
  std::vector<size_t> embedding_at_;
  std::vector<size_t> rows_;
  std::vector<int> candidates_, survivors_;
  std::vector<Removal> removals_;
  std::vector<Posterior> posteriors_;
  std::vector<double> weights_;
  std::vector<RankCandidate> ranking_;
  LoggingDraws logging_draws_{options_.propensity_draws};
  std::vector<const std::string*> offer_ids_;
  FairnessMonitor fairness_;
  std::vector<double> skews_;
  std::unique_ptr<Rephraser> rephraser_;            // null: no rephrasing
  std::shared_ptr<const RephraseTable> rephrases_;  // this step's snapshot
  std::string message_persona_;                     // the current decision's persona
  v1::Decision decision_;
  v1::Trigger trigger_;
  std::span<const float> message_scores_;  // the current decision's intent scores
  std::vector<uint32_t> message_terms_;    // ... and the visitor's recent search terms
  // The step's home decisions, scored together (ScoreHomePropensities).
  std::span<op::VisitorUpdate> current_updates_;
  std::vector<int> home_row_, home_persona_;
  std::vector<float> home_out_;
  std::vector<op::PropensityRequest> requests_;
};

DecisionOperator::DecisionOperator(DecisionOptions options,
                                   std::shared_ptr<const catalog::Catalog> catalog,
                                   DecisionModels models, DecisionMetrics* metrics,
                                   const Logger& log, std::atomic<bool>* reload_requested)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(catalog), std::move(models),
                                   metrics, log, reload_requested)) {}

DecisionOperator::~DecisionOperator() = default;

void DecisionOperator::Decide(std::span<op::VisitorUpdate> updates, op::StateWriter& state,
                              op::DecisionSink& sink) {
  impl_->Decide(updates, state, sink);
}
void DecisionOperator::Flush(op::StateWriter& state) {
  impl_->Flush(state);
}
void DecisionOperator::ForgetTasks() {
  impl_->ForgetTasks();
}
void DecisionOperator::SetCatalog(std::shared_ptr<const catalog::Catalog> catalog) {
  impl_->SetCatalog(std::move(catalog));
}
std::shared_ptr<const catalog::Catalog> DecisionOperator::catalog() const {
  return impl_->catalog();
}
const DecisionOptions& DecisionOperator::options() const {
  return impl_->options();
}
DecisionOperator::MessageCacheStats DecisionOperator::message_cache_stats() const {
  return impl_->message_cache_stats();
}

void DecisionOperator::CheckOptions(const DecisionOptions& options,
                                    const catalog::Catalog& catalog) {
  CheckCatalogPhrases(catalog, options);
  for (const auto& [offer, lever] : options.levers) {
    if (catalog.FindOffer(offer) < 0) {
      throw ConfigError("decision.lever." + offer,
                        "no offer '" + offer + "' in catalogue " + catalog.version());
    }
  }
  for (const auto* m : {&options.trigger_thresholds}) {
    for (const auto& [intent, v] : *m) {
      if (catalog.FindIntent(intent) < 0) {
        throw ConfigError("triggers.threshold." + intent,
                          "no intent '" + intent + "' in the taxonomy");
      }
    }
  }
  for (const auto& [intent, v] : options.trigger_cooldowns) {
    if (catalog.FindIntent(intent) < 0) {
      throw ConfigError("triggers.cooldown_ms." + intent,
                        "no intent '" + intent + "' in the taxonomy");
    }
  }
}

}  // namespace intentstream::decide
