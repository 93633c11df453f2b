#include "runtime/batch_processor.h"

#include <algorithm>
#include <chrono>

#include "common/clock.h"
#include "ingest/dead_letter.h"
#include "ingest/session_event.h"
#include "state/expiry_filter.h"
#include "state/keys.h"
#include "state/visitor_state.h"

namespace intentstream::runtime {

namespace {

int64_t ToMillis(const google::protobuf::Timestamp& ts) {
  return ingest::TimestampToMillis(ts);
}

// Reads profiles and offer counters for the decision operator: this batch's changes
// first, then committed state.
class BatchStateView : public op::StateView {
 public:
  BatchStateView(const state::StateStore& store,
                 const std::unordered_map<std::string, v1::CustomerProfile>& profiles,
                 const std::unordered_map<std::string, v1::OfferStats>& offers)
      : store_(store), profiles_(profiles), offers_(offers) {}

  bool GetProfile(std::string_view customer_id, v1::CustomerProfile* out) const override {
    const std::string key(customer_id);
    if (auto it = profiles_.find(key); it != profiles_.end()) {
      *out = it->second;
      return true;
    }
    std::string value;
    return store_.Get(state::Cf::kProfiles, key, &value) && out->ParseFromString(value);
  }

  bool GetOfferStats(std::string_view customer_id, std::string_view offer_id,
                     v1::OfferStats* out) const override {
    const std::string key = state::OfferKey(customer_id, offer_id);
    if (auto it = offers_.find(key); it != offers_.end()) {
      *out = it->second;
      return true;
    }
    std::string value;
    return store_.Get(state::Cf::kOffers, key, &value) && out->ParseFromString(value);
  }

 private:
  const state::StateStore& store_;
  const std::unordered_map<std::string, v1::CustomerProfile>& profiles_;
  const std::unordered_map<std::string, v1::OfferStats>& offers_;
};

// Collects the operator's decisions and triggers as output messages.
class CollectingSink : public op::DecisionSink {
 public:
  CollectingSink(const TopicNames& topics, std::vector<OutputMessage>* out, BatchCounts* counts)
      : topics_(topics), out_(out), counts_(counts) {}

  void Emit(const v1::Decision& d) override {
    const std::string& key = d.customer_id().empty() ? d.anonymous_id() : d.customer_id();
    out_->push_back({topics_.decisions, key, d.SerializeAsString()});
    ++counts_->decisions;
  }
  void Emit(const v1::Trigger& t) override {
    out_->push_back({topics_.triggers, t.customer_id(), t.SerializeAsString()});
    ++counts_->triggers;
  }

 private:
  const TopicNames& topics_;
  std::vector<OutputMessage>* out_;
  BatchCounts* counts_;
};

}  // namespace

BatchProcessor::BatchProcessor(const ProcessorOptions& options, state::StateStore& store,
                               serve::ProcessorProbe* probe, op::SessionEncoder* encoder,
                               op::DecisionOperator* decision_operator,
                               std::string processor_version)
    : options_(options),
      store_(store),
      probe_(probe),
      encoder_(encoder),
      operator_(decision_operator),
      version_(std::move(processor_version)),
      decoder_(options.validation),
      visitors_(options.visitor_cache_entries),
      commit_{store.NewWriteSet(), {}} {}

bool BatchProcessor::SeenBefore(const std::string& dedup_key) {
  if (!dedup_new_.insert(dedup_key).second) return true;
  if (store_.Get(state::Cf::kDedup, dedup_key, &scratch_)) {
    dedup_new_.erase(dedup_key);
    return true;
  }
  return false;
}

BatchProcessor::Visitor& BatchProcessor::LoadVisitor(const std::string& key) {
  if (Visitor* hit = visitors_.Find(key)) {
    if (probe_) probe_->VisitorCache(true);
    return *hit;
  }
  if (probe_) probe_->VisitorCache(false);
  Visitor& v = visitors_.Insert(key);
  if (store_.Get(state::Cf::kSessions, key, &scratch_) && !v.state.ParseFromString(scratch_)) {
    throw state::StateError("corrupt visitor state for key '" + key + "'");
  }
  return v;
}

v1::OfferStats& BatchProcessor::LoadOffer(const std::string& key) {
  auto [it, inserted] = offers_.try_emplace(key);
  if (inserted && store_.Get(state::Cf::kOffers, key, &scratch_)) {
    it->second.ParseFromString(scratch_);
  }
  return it->second;
}

void BatchProcessor::Apply(std::span<const InputMessage> messages, int64_t now_ms,
                           std::vector<OutputMessage>* outputs, BatchCounts* counts) {
  const auto apply_start = std::chrono::steady_clock::now();
  double decode_seconds = 0;
  poll_touched_.clear();
  for (const InputMessage& m : messages) {
    // A batch spans few partitions: a linear scan beats a map lookup per message.
    auto it = std::find_if(next_offsets_.begin(), next_offsets_.end(), [&](const auto& n) {
      return n.first.partition == m.partition && n.first.topic == m.topic;
    });
    if (it == next_offsets_.end()) {
      next_offsets_.emplace_back(TopicPartition{std::string(m.topic), m.partition},
                                 Offset{m.offset.value + 1});
    } else {
      it->second = Offset{std::max(it->second.value, m.offset.value + 1)};
    }
    const auto decode_start = std::chrono::steady_clock::now();
    const auto rejection = decoder_.Decode(m.kind, m.payload, m.key, now_ms, &decoded_);
    decode_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - decode_start).count();
    if (rejection) {
      const auto dl = ingest::MakeDeadLetter({m.topic, m.partition, m.offset}, m.payload, m.key,
                                             *rejection, now_ms, version_, options_.validation);
      // Keyed by the dead letter's (capped) copy of the source key.
      outputs->push_back({options_.topics.dead_letters, dl.original_key(), dl.SerializeAsString()});
      ++counts->dead_letters;
      if (probe_) probe_->DeadLettered(m.kind, rejection->reason);
      continue;
    }
    bool duplicate = false;
    switch (m.kind) {
      case ingest::TopicKind::kWeb:
        duplicate = SeenBefore(state::EventDedupKey(decoded_.web.event_id()));
        if (!duplicate) ApplyWeb(decoded_.web, m, outputs, counts);
        break;
      case ingest::TopicKind::kApp:
        duplicate = SeenBefore(state::EventDedupKey(decoded_.app.event_id()));
        if (!duplicate) ApplyApp(decoded_.app, m);
        break;
      case ingest::TopicKind::kLink:
        duplicate = SeenBefore(state::EventDedupKey(decoded_.link.event_id()));
        if (!duplicate) ApplyLink(decoded_.link, outputs, counts);
        break;
      case ingest::TopicKind::kProfile:
        ApplyProfile(decoded_.profile);  // latest wins; replays are harmless
        break;
      case ingest::TopicKind::kHandoff:
        duplicate = SeenBefore(state::HandoffDedupKey(decoded_.handoff.handoff_id()));
        if (!duplicate) ApplyHandoff(decoded_.handoff, counts);
        break;
    }
    if (duplicate) {
      ++counts->duplicates;
      if (probe_) probe_->Duplicate(m.kind);
    } else {
      ++counts->accepted;
      if (probe_) probe_->Accepted(m.kind);
    }
  }

  if (probe_) {
    const double apply_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - apply_start).count();
    probe_->StageSeconds(serve::Stage::kDecode, decode_seconds);
    probe_->StageSeconds(serve::Stage::kState, apply_seconds - decode_seconds);
  }
  RunStages(outputs, counts);
  for (Visitor* v : poll_touched_) {
    v->in_poll = false;
    v->new_event_ids.clear();
    v->first_arrival_us = 0;
  }
}

BatchProcessor::Commit& BatchProcessor::TakeWrites() {
  state::WriteSet& writes = commit_.writes;
  writes.Clear();
  const int64_t now_ms = WallMillis();
  const std::string written = state::ExpiryFilter::EncodeWriteTime(now_ms);
  for (Visitor* v : visitors_.dirty()) {
    v->state.set_updated_at_ms(now_ms);
    v->state.SerializeToString(&scratch_);
    writes.Put(state::Cf::kSessions, *v->key, scratch_);
  }
  // The caller commits these writes or stops the process, so the table never runs ahead
  // of committed state.
  visitors_.Committed();
  for (const auto& key : dedup_new_) writes.Put(state::Cf::kDedup, key, written);
  for (const auto& [key, stats] : offers_)
    writes.Put(state::Cf::kOffers, key, stats.SerializeAsString());
  for (const auto& [key, profile] : profiles_) {
    writes.Put(state::Cf::kProfiles, key, profile.SerializeAsString());
  }
  for (const auto& [key, value] : identity_puts_) writes.Put(state::Cf::kIdentity, key, value);
  for (const auto& [tp, next] : next_offsets_) writes.PutOffset(tp, next);
  commit_.next_offsets.swap(next_offsets_);
  next_offsets_.clear();
  dedup_new_.clear();
  offers_.clear();
  profiles_.clear();
  identity_puts_.clear();
  return commit_;
}

void BatchProcessor::Touch(Visitor& v, std::string_view event_id, int64_t arrival_us) {
  if (!v.in_poll) {
    v.in_poll = true;
    poll_touched_.push_back(&v);
  }
  visitors_.MarkDirty(v);
  if (!event_id.empty()) {
    if (v.new_event_ids.empty()) v.first_arrival_us = arrival_us;
    v.new_event_ids.emplace_back(event_id);
  }
}

void BatchProcessor::ApplyWeb(const v1::WebEvent& e, const InputMessage& m,
                              std::vector<OutputMessage>* out, BatchCounts* counts) {
  Visitor& v = LoadVisitor(state::AnonymousKey(e.anonymous_id()));
  const v1::SessionEvent se = ingest::ToSessionEvent(e);
  state::ApplyOwnEvent(&v.state, se, options_.session);
  Touch(v, e.event_id(), m.arrival_us);
  // A linked anonymous id keeps feeding its customer's session.
  if (!v.state.linked_customer_id().empty()) {
    v1::IdentityHandoff h;
    h.set_handoff_id(e.event_id());
    h.set_anonymous_id(e.anonymous_id());
    h.set_customer_id(v.state.linked_customer_id());
    *h.add_events() = se;
    h.set_web_events_total(v.state.web_events());
    SendHandoff(h, out, counts);
  }
}

void BatchProcessor::ApplyApp(const v1::AppEvent& e, const InputMessage& m) {
  Visitor& v = LoadVisitor(state::CustomerKey(e.customer_id()));
  state::ApplyOwnEvent(&v.state, ingest::ToSessionEvent(e), options_.session);
  Touch(v, e.event_id(), m.arrival_us);
  if (!e.offer_id().empty()) {
    state::ApplyOfferAction(&LoadOffer(state::OfferKey(e.customer_id(), e.offer_id())), e.action(),
                            ToMillis(e.event_time()));
  }
}

void BatchProcessor::ApplyLink(const v1::IdentityLink& link, std::vector<OutputMessage>* out,
                               BatchCounts* counts) {
  Visitor& v = LoadVisitor(state::AnonymousKey(link.anonymous_id()));
  v.state.set_linked_customer_id(link.customer_id());
  Touch(v, {}, 0);
  identity_puts_[state::AnonymousKey(link.anonymous_id())] = link.customer_id();
  identity_puts_[state::CustomerLinkKey(link.customer_id(), link.anonymous_id())] = "";
  // The web history so far travels to the customer's owner; later web events follow
  // one by one (ApplyWeb), so the link may arrive before or after them.
  v1::IdentityHandoff h;
  h.set_handoff_id(link.event_id());
  h.set_anonymous_id(link.anonymous_id());
  h.set_customer_id(link.customer_id());
  h.set_link_time_ms(ToMillis(link.event_time()));
  *h.mutable_events() = v.state.events();
  h.set_web_events_total(v.state.web_events());
  SendHandoff(h, out, counts);
}

void BatchProcessor::SendHandoff(v1::IdentityHandoff& h, std::vector<OutputMessage>* out,
                                 BatchCounts* counts) {
  out->push_back({options_.topics.handoff, h.customer_id(), h.SerializeAsString()});
  ++counts->handoffs_sent;
  if (probe_) probe_->HandoffSent();
}

void BatchProcessor::ApplyProfile(const v1::CustomerProfile& p) {
  const std::string& key = p.customer_id();
  auto it = profiles_.find(key);
  v1::CustomerProfile current;
  bool have = false;
  if (it != profiles_.end()) {
    current = it->second;
    have = true;
  } else if (store_.Get(state::Cf::kProfiles, key, &scratch_)) {
    have = current.ParseFromString(scratch_);
  }
  if (have && ToMillis(current.updated_time()) > ToMillis(p.updated_time())) return;
  profiles_[key] = p;
}

void BatchProcessor::ApplyHandoff(const v1::IdentityHandoff& h, BatchCounts* counts) {
  Visitor& v = LoadVisitor(state::CustomerKey(h.customer_id()));
  const int merged = state::MergeHandoff(&v.state, h, options_.session);
  Touch(v, {}, 0);
  ++counts->handoffs_merged;
  if (probe_) probe_->HandoffMerged(merged);
}

void BatchProcessor::RunStages(std::vector<OutputMessage>* out, BatchCounts* counts) {
  if (encoder_ == nullptr && operator_ == nullptr) return;
  std::vector<op::VisitorUpdate> updates;
  updates.reserve(poll_touched_.size());
  for (Visitor* vp : poll_touched_) {
    Visitor& v = *vp;
    op::VisitorUpdate u;
    u.visitor_id = *v.key;
    u.state = &v.state;
    for (const auto& id : v.new_event_ids) u.new_event_ids.push_back(id);
    u.arrival_us = v.first_arrival_us;
    updates.push_back(std::move(u));
  }
  using SteadyClock = std::chrono::steady_clock;
  if (encoder_ != nullptr) {
    const auto start = SteadyClock::now();
    encoder_->Encode(updates);
    if (probe_) {
      probe_->StageSeconds(serve::Stage::kModel,
                           std::chrono::duration<double>(SteadyClock::now() - start).count());
    }
  }
  if (operator_ != nullptr) {
    const auto start = SteadyClock::now();
    BatchStateView view(store_, profiles_, offers_);
    CollectingSink sink(options_.topics, out, counts);
    operator_->Decide(updates, view, sink);
    if (probe_) {
      probe_->StageSeconds(serve::Stage::kOperator,
                           std::chrono::duration<double>(SteadyClock::now() - start).count());
    }
  }
}

}  // namespace intentstream::runtime
