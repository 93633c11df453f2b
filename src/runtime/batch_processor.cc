#include "runtime/batch_processor.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "common/clock.h"
#include "common/hash.h"
#include "ingest/dead_letter.h"
#include "ingest/session_event.h"
#include "state/visitor_state.h"

namespace intentstream::runtime {

namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t ToMillis(const google::protobuf::Timestamp& ts) {
  return ingest::TimestampToMillis(ts);
}

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Collects the operator's decisions and triggers as output messages, each stamped with
// the arrival of the event that made it: the operator decides for the visitors of one
// step, in which each visitor changed by one event (customer side), so the decision's
// customer (or anonymous) id names the update and its arrival exactly.
class CollectingSink : public op::DecisionSink {
 public:
  CollectingSink(const TopicNames& topics, bool json, std::span<const op::VisitorUpdate> updates,
                 std::vector<OutputMessage>* out, BatchCounts* counts)
      : topics_(topics), json_(json), updates_(updates), out_(out), counts_(counts) {}

  void Emit(const v1::Decision& d) override {
    const std::string& key = d.customer_id().empty() ? d.anonymous_id() : d.customer_id();
    out_->push_back(
        {topics_.decisions, key, Encode(d), 0, -1, OutputMessage::Kind::kDecision, ArrivalOf(key)});
    ++counts_->decisions;
  }
  void Emit(const v1::Trigger& t) override {
    out_->push_back({topics_.triggers, t.customer_id(), Encode(t), 0, -1,
                     OutputMessage::Kind::kTrigger, ArrivalOf(t.customer_id())});
    ++counts_->triggers;
  }

 private:
  std::string Encode(const google::protobuf::Message& m) const {
    if (!json_) return m.SerializeAsString();
    std::string out;
    // Our own messages always map to JSON; a failure would be a bug, not bad input.
    (void)google::protobuf::util::MessageToJsonString(m, &out);
    return out;
  }

  // The arrival of the update for visitor `id` (0 when the step has none): built on the
  // first emit, since most steps emit nothing.
  int64_t ArrivalOf(std::string_view id) {
    if (arrivals_.empty()) {
      arrivals_.reserve(updates_.size());
      for (const auto& u : updates_) {
        arrivals_.emplace(u.customer_id.empty() ? u.anonymous_id : u.customer_id, u.arrival_us);
      }
    }
    const auto it = arrivals_.find(id);
    return it != arrivals_.end() ? it->second : 0;
  }

  const TopicNames& topics_;
  bool json_;
  std::span<const op::VisitorUpdate> updates_;
  std::vector<OutputMessage>* out_;
  BatchCounts* counts_;
  std::unordered_map<std::string_view, int64_t> arrivals_;
};

}  // namespace

BatchProcessor::BatchProcessor(const ProcessorOptions& options, state::StateStore& store,
                               serve::ProcessorProbe* probe, op::SessionEncoder* encoder,
                               op::DecisionOperator* decision_operator,
                               std::string processor_version)
    : options_(options),
      probe_(probe),
      encoder_(encoder),
      operator_(decision_operator),
      version_(std::move(processor_version)),
      decoder_(options.validation),
      state_(store,
             state::BatchStateOptions{.visitor_cache_entries = options.visitor_cache_entries}) {}

void BatchProcessor::Decode(InputRecord* r, int64_t now_ms) const {
  const InputMessage& m = r->message;
  r->rejection.reset();
  r->watermark = false;
  r->tombstone = false;
  r->time_ms = InputRecord::kNoTime;
  using ingest::TopicKind;
  // Internal records: a task watermark on the hand-off topic.
  if (m.kind == TopicKind::kHandoff &&
      m.key.substr(0, kWatermarkKeyPrefix.size()) == kWatermarkKeyPrefix) {
    auto& h = r->decoded.handoff;
    h.Clear();
    if (h.ParseFromArray(m.payload.data(), static_cast<int>(m.payload.size())) &&
        h.has_watermark() && h.watermark().task() >= 0 &&
        (partition_count_ <= 0 || h.watermark().task() < partition_count_) &&
        h.watermark().watermark_ms() >= ingest::kMinTimestampMillis &&
        h.watermark().watermark_ms() <= ingest::kMaxTimestampMillis) {
      r->watermark = true;
    } else {
      r->rejection = ingest::Rejection{v1::DEAD_LETTER_REASON_INVALID_FIELD,
                                       "watermark record without a valid watermark"};
    }
    return;
  }
  // A tombstone on the compacted profile topic erases the customer (right to erasure).
  if (m.kind == TopicKind::kProfile && m.null_payload) {
    if (m.key.empty() || m.key.size() > options_.validation.max_id_bytes) {
      r->rejection = ingest::Rejection{v1::DEAD_LETTER_REASON_MISSING_FIELD,
                                       "profile tombstone without a valid customer id key"};
      return;
    }
    r->tombstone = true;
    r->time_ms = m.kafka_timestamp_ms > 0 ? m.kafka_timestamp_ms : now_ms;
    return;
  }
  r->rejection = decoder_.Decode(m.kind, m.payload, m.key, now_ms, &r->decoded);
  if (r->rejection) return;
  // Co-partitioning: a visitor's events must all be on its key's partition, or its
  // state splits between tasks (and processes). Input elsewhere is rejected.
  if (partition_count_ > 0 && m.kind != TopicKind::kHandoff && !m.key.empty()) {
    const int32_t expected = KafkaMurmur2Partition(m.key, partition_count_);
    if (expected != m.partition.value) {
      r->rejection = ingest::Rejection{
          v1::DEAD_LETTER_REASON_WRONG_PARTITION,
          "key belongs to partition " + std::to_string(expected) + " of " +
              std::to_string(partition_count_) + ", received on partition " +
              std::to_string(m.partition.value) + " (produce with the murmur2 partitioner)"};
      return;
    }
  }
  switch (m.kind) {
    case TopicKind::kWeb:
      r->time_ms = ToMillis(r->decoded.web.event_time());
      break;
    case TopicKind::kApp:
      r->time_ms = ToMillis(r->decoded.app.event_time());
      break;
    case TopicKind::kLink:
      r->time_ms = ToMillis(r->decoded.link.event_time());
      break;
    case TopicKind::kProfile:
      r->time_ms = ToMillis(r->decoded.profile.updated_time());
      break;
    case TopicKind::kHandoff:
      r->time_ms = r->decoded.handoff.event_time_ms() > 0 ? r->decoded.handoff.event_time_ms()
                                                          : r->decoded.handoff.link_time_ms();
      break;
  }
}

void BatchProcessor::ApplyMessages(std::span<const InputMessage> messages, int64_t now_ms,
                                   std::vector<OutputMessage>* outputs, BatchCounts* counts) {
  std::vector<InputRecord> records(messages.size());
  std::vector<InputRecord*> ptrs;
  for (size_t i = 0; i < messages.size(); ++i) {
    records[i].message = messages[i];
    Decode(&records[i], now_ms);
    ptrs.push_back(&records[i]);
  }
  Apply(ptrs, now_ms, outputs, counts);
}

void BatchProcessor::Apply(std::span<InputRecord* const> records, int64_t /*now_ms*/,
                           std::vector<OutputMessage>* outputs, BatchCounts* counts) {
  const auto apply_start = SteadyClock::now();
  stage_seconds_[0] = stage_seconds_[1] = 0;
  using ingest::TopicKind;
  for (InputRecord* rp : records) {
    const InputRecord& r = *rp;
    const InputMessage& m = r.message;
    state_.AdvanceOffset(m.topic, m.partition, Offset{m.offset.value + 1});
    if (r.rejection) {
      DeadLetter(r, outputs, counts);
      continue;
    }
    if (r.watermark) continue;
    if (r.tombstone) {
      // Erasure drops visitor entries: finish everything that points at them first.
      RunStep(outputs, counts);
      RunAnonymousStage(outputs, counts);
      state_.EraseCustomer(m.key, r.time_ms);
      ++counts->erased;
      ++counts->accepted;
      if (probe_) probe_->Accepted(m.kind);
      continue;
    }
    bool duplicate = false;
    switch (m.kind) {
      // Own events are deduplicated by their visitor's window (BatchState::SeenOwnEvent);
      // links and hand-offs by one `dedup` key each.
      case TopicKind::kWeb:
        duplicate = state_.SeenOwnEvent(state::VisitorKind::kAnonymous,
                                        r.decoded.web.anonymous_id(), r.decoded.web.event_id(),
                                        ingest::TimestampToMillis(r.decoded.web.event_time()));
        if (!duplicate) ApplyWeb(r, outputs, counts);
        break;
      case TopicKind::kApp:
        duplicate = state_.SeenOwnEvent(state::VisitorKind::kCustomer, r.decoded.app.customer_id(),
                                        r.decoded.app.event_id(),
                                        ingest::TimestampToMillis(r.decoded.app.event_time()));
        if (!duplicate) {
          CustomerForStep(r.decoded.app.customer_id(), outputs, counts);
          ApplyApp(r);
        }
        break;
      case TopicKind::kLink:
        duplicate = state_.SeenEvent(r.decoded.link.event_id());
        if (!duplicate) ApplyLink(r, outputs, counts);
        break;
      case TopicKind::kProfile:
        // Latest wins, so replays are harmless; a pending decision must not see it.
        CustomerForStep(r.decoded.profile.customer_id(), outputs, counts);
        state_.PutProfile(r.decoded.profile);
        break;
      case TopicKind::kHandoff:
        duplicate = state_.SeenHandoff(r.decoded.handoff.handoff_id());
        if (!duplicate) {
          CustomerForStep(r.decoded.handoff.customer_id(), outputs, counts);
          ApplyHandoff(r, counts);
        }
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
  RunStep(outputs, counts);
  RunAnonymousStage(outputs, counts);
  if (probe_) {
    const double total = SecondsSince(apply_start);
    probe_->StageSeconds(serve::Stage::kModel, stage_seconds_[0]);
    probe_->StageSeconds(serve::Stage::kOperator, stage_seconds_[1]);
    probe_->StageSeconds(serve::Stage::kState,
                         std::max(0.0, total - stage_seconds_[0] - stage_seconds_[1]));
  }
}

BatchProcessor::Commit& BatchProcessor::TakeWrites() {
  if (operator_ != nullptr) operator_->Flush(state_);
  return state_.TakeWrites(WallMillis());
}

void BatchProcessor::ClearCache() {
  state_.ClearCache();
  if (operator_ != nullptr) operator_->ForgetTasks();
}

void BatchProcessor::DeadLetter(const InputRecord& r, std::vector<OutputMessage>* out,
                                BatchCounts* counts) {
  const InputMessage& m = r.message;
  const auto dl = ingest::MakeDeadLetter({m.topic, m.partition, m.offset}, m.payload, m.key,
                                         *r.rejection, WallMillis(), version_, options_.validation);
  // Keyed by the dead letter's (capped) copy of the source key.
  out->push_back({options_.topics.dead_letters, dl.original_key(), dl.SerializeAsString()});
  ++counts->dead_letters;
  if (probe_) probe_->DeadLettered(m.kind, r.rejection->reason);
}

BatchProcessor::Visitor& BatchProcessor::CustomerForStep(std::string_view customer_id,
                                                         std::vector<OutputMessage>* out,
                                                         BatchCounts* counts) {
  Visitor* v = &state_.Load(state::VisitorKind::kCustomer, customer_id);
  if (v->in_step) {
    RunStep(out, counts);
    v = &state_.Load(state::VisitorKind::kCustomer, customer_id);
  }
  return *v;
}

void BatchProcessor::JoinStep(Visitor& v, const InputRecord& r, op::StepEvent event) {
  state_.MarkDirty(v);
  if (!v.in_step) {
    v.in_step = true;
    step_.push_back(&v);
    step_events_.push_back(event);
    step_tasks_.push_back(r.message.partition.value);
  }
  if (!event.event_id.empty()) {
    if (v.new_event_ids.empty()) v.first_arrival_us = r.message.arrival_us;
    v.new_event_ids.emplace_back(event.event_id);
  }
}

void BatchProcessor::ApplyWeb(const InputRecord& r, std::vector<OutputMessage>* out,
                              BatchCounts* counts) {
  const v1::WebEvent& e = r.decoded.web;
  Visitor& v = state_.Load(state::VisitorKind::kAnonymous, e.anonymous_id());
  const v1::SessionEvent se = ingest::ToSessionEvent(e);
  state::ApplyOwnEvent(&v.state, se, options_.session, &evicted_);
  state_.RememberEvicted(&evicted_);
  state_.MarkDirty(v);
  if (!v.in_step) {
    v.in_step = true;
    anonymous_.push_back(&v);
    anonymous_tasks_.push_back(r.message.partition.value);
  }
  if (v.new_event_ids.empty()) v.first_arrival_us = r.message.arrival_us;
  v.new_event_ids.emplace_back(e.event_id());
  // A linked anonymous id keeps feeding its customer's session.
  if (!v.state.linked_customer_id().empty()) {
    v1::IdentityHandoff h;
    h.set_handoff_id(e.event_id());
    h.set_anonymous_id(e.anonymous_id());
    h.set_customer_id(v.state.linked_customer_id());
    h.set_link_time_ms(v.state.linked_at_ms());
    h.set_event_time_ms(se.time_ms());
    *h.add_events() = se;
    h.set_web_events_total(v.state.web_events());
    SendHandoff(h, out, counts);
  }
}

void BatchProcessor::ApplyLink(const InputRecord& r, std::vector<OutputMessage>* out,
                               BatchCounts* counts) {
  const v1::IdentityLink& link = r.decoded.link;
  Visitor& v = state_.Load(state::VisitorKind::kAnonymous, link.anonymous_id());
  v.state.set_linked_customer_id(link.customer_id());
  v.state.set_linked_at_ms(ToMillis(link.event_time()));
  state_.MarkDirty(v);
  if (!v.in_step) {
    v.in_step = true;
    anonymous_.push_back(&v);
    anonymous_tasks_.push_back(r.message.partition.value);
  }
  state_.PutIdentityLink(link.anonymous_id(), link.customer_id());
  // The web history up to the link travels to the customer's owner; later web events
  // follow one by one at their own event time (ApplyWeb), so the link may arrive before
  // or after them and the customer side receives the same hand-offs either way.
  const int64_t link_ms = ToMillis(link.event_time());
  v1::IdentityHandoff h;
  h.set_handoff_id(link.event_id());
  h.set_anonymous_id(link.anonymous_id());
  h.set_customer_id(link.customer_id());
  h.set_link_time_ms(link_ms);
  h.set_event_time_ms(link_ms);
  for (const auto& e : v.state.events()) {
    if (e.time_ms() <= link_ms) *h.add_events() = e;
  }
  h.set_web_events_total(v.state.web_events());
  SendHandoff(h, out, counts);
  for (const auto& e : v.state.events()) {
    if (e.time_ms() <= link_ms) continue;
    // A web event after the link that arrived before it: forwarded as ApplyWeb would
    // have. Its id is not known here, so the hand-off id is derived from its key.
    v1::IdentityHandoff f;
    f.set_handoff_id(link.event_id() + "/" + std::to_string(e.event_key()));
    f.set_anonymous_id(link.anonymous_id());
    f.set_customer_id(link.customer_id());
    f.set_link_time_ms(link_ms);
    f.set_event_time_ms(e.time_ms());
    *f.add_events() = e;
    f.set_web_events_total(v.state.web_events());
    SendHandoff(f, out, counts);
  }
}

void BatchProcessor::SendHandoff(const v1::IdentityHandoff& h, std::vector<OutputMessage>* out,
                                 BatchCounts* counts) {
  // Timestamped with its event time: the receiving task orders it among its input. The
  // partition is the customer's (murmur2, as a keyed produce would pick), given
  // explicitly so the hand-off is queued in order with the task watermarks that follow
  // it to the same partition (a keyed message may wait in the producer's unassigned
  // queue until the topic's metadata is known, and overtake nothing or be overtaken).
  out->push_back(
      {options_.topics.handoff, h.customer_id(), h.SerializeAsString(), h.event_time_ms(),
       partition_count_ > 0 ? KafkaMurmur2Partition(h.customer_id(), partition_count_) : -1});
  ++counts->handoffs_sent;
  if (probe_) probe_->HandoffSent();
}

void BatchProcessor::ApplyApp(const InputRecord& r) {
  const v1::AppEvent& e = r.decoded.app;
  Visitor& v = state_.Load(state::VisitorKind::kCustomer, e.customer_id());
  state::ApplyOwnEvent(&v.state, ingest::ToSessionEvent(e), options_.session, &evicted_);
  state_.RememberEvicted(&evicted_);
  op::StepEvent event;
  event.kind = op::StepEvent::Kind::kApp;
  event.event_id = e.event_id();
  event.time_ms = ToMillis(e.event_time());
  event.app = &e;
  JoinStep(v, r, event);
}

void BatchProcessor::ApplyHandoff(const InputRecord& r, BatchCounts* counts) {
  const v1::IdentityHandoff& h = r.decoded.handoff;
  if (state_.IsErasedLink(h.customer_id(), h.anonymous_id(), h.link_time_ms())) return;
  Visitor& v = state_.Load(state::VisitorKind::kCustomer, h.customer_id());
  const int merged = state::MergeHandoff(&v.state, h, options_.session,
                                         state_.options().max_linked_ids, &evicted_);
  state_.RememberEvicted(&evicted_);
  op::StepEvent event;
  event.kind = op::StepEvent::Kind::kHandoff;
  event.event_id = h.handoff_id();  // the link's or the forwarded web event's id
  event.time_ms = r.time_ms;
  event.handoff = &h;
  JoinStep(v, r, event);
  ++counts->handoffs_merged;
  if (probe_) probe_->HandoffMerged(merged);
}

void BatchProcessor::RunStep(std::vector<OutputMessage>* out, BatchCounts* counts) {
  if (step_.empty()) return;
  updates_.clear();
  for (size_t i = 0; i < step_.size(); ++i) {
    Visitor& v = *step_[i];
    op::VisitorUpdate u;
    u.visitor_id = *v.key;
    u.customer_id = state::BatchState::IdOf(v);
    u.state = &v.state;
    u.task = step_tasks_[i];
    u.event = step_events_[i];
    for (const auto& id : v.new_event_ids) u.new_event_ids.push_back(id);
    u.arrival_us = v.first_arrival_us;
    updates_.push_back(std::move(u));
  }
  RunStages(updates_, out, counts);
  for (Visitor* v : step_) {
    v->in_step = false;
    v->new_event_ids.clear();
    v->first_arrival_us = 0;
  }
  step_.clear();
  step_events_.clear();
  step_tasks_.clear();
}

void BatchProcessor::RunAnonymousStage(std::vector<OutputMessage>* out, BatchCounts* counts) {
  if (anonymous_.empty()) return;
  updates_.clear();
  for (size_t i = 0; i < anonymous_.size(); ++i) {
    Visitor& v = *anonymous_[i];
    op::VisitorUpdate u;
    u.visitor_id = *v.key;
    u.anonymous_id = state::BatchState::IdOf(v);
    u.state = &v.state;
    u.task = anonymous_tasks_[i];
    for (const auto& id : v.new_event_ids) u.new_event_ids.push_back(id);
    u.arrival_us = v.first_arrival_us;
    updates_.push_back(std::move(u));
  }
  RunStages(updates_, out, counts);
  for (Visitor* v : anonymous_) {
    v->in_step = false;
    v->new_event_ids.clear();
    v->first_arrival_us = 0;
  }
  anonymous_.clear();
  anonymous_tasks_.clear();
}

void BatchProcessor::RunStages(std::span<op::VisitorUpdate> updates,
                               std::vector<OutputMessage>* out, BatchCounts* counts) {
  if (encoder_ != nullptr) {
    const auto start = SteadyClock::now();
    encoder_->Encode(updates);
    stage_seconds_[0] += SecondsSince(start);
  }
  if (operator_ != nullptr) {
    const auto start = SteadyClock::now();
    CollectingSink sink(options_.topics, options_.output_json, updates, out, counts);
    operator_->Decide(updates, state_, sink);
    stage_seconds_[1] += SecondsSince(start);
  }
}

}  // namespace intentstream::runtime
