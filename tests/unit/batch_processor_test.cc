#include "runtime/batch_processor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <deque>

#include "common/hash.h"
#include "ingest/session_event.h"
#include "state/expiry_filter.h"
#include "state/keys.h"
#include "state/visitor_codec.h"
#include "state/visitor_state.h"
#include "support/events.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace intentstream::runtime {
namespace {

using ingest::TopicKind;

// An encoder that writes a recognisable embedding: how many events the window holds.
class CountingEncoder : public op::SessionEncoder {
 public:
  std::string model_version() const override { return "counting-1"; }
  void Encode(std::span<op::VisitorUpdate> updates) override {
    ++calls;
    for (auto& u : updates) {
      const float n = static_cast<float>(u.state->events_size());
      u.state->set_embedding(std::string(reinterpret_cast<const char*>(&n), sizeof n));
      u.state->set_model_version(model_version());
      visitors_seen += updates.size() > 0 ? 1 : 0;
    }
  }
  void Forget(std::string_view) override {}
  int calls = 0;
  size_t visitors_seen = 0;
};

class BatchProcessorTest : public ::testing::Test {
 protected:
  BatchProcessorTest() {
    options_.store.dir = dir_.Sub("state");
    store_ = std::make_unique<state::StateStore>(options_.store);
    batch_ =
        std::make_unique<BatchProcessor>(options_, *store_, nullptr, &encoder_, nullptr, "test");
  }

  // Adds a message to the next batch; offsets count up per topic-partition.
  template <typename M>
  void Add(TopicKind kind, const M& msg, const std::string& key) {
    AddRaw(kind, msg.SerializeAsString(), key);
  }
  void AddRaw(TopicKind kind, std::string payload, const std::string& key) {
    const std::string& topic = TopicOf(kind);
    payloads_.push_back(std::move(payload));
    keys_.push_back(key);
    pending_.push_back({kind, topic, Partition{0}, Offset{next_offset_[topic]++}, {}, {}, 0});
  }
  const std::string& TopicOf(TopicKind kind) const {
    switch (kind) {
      case TopicKind::kWeb:
        return options_.topics.web;
      case TopicKind::kApp:
        return options_.topics.app;
      case TopicKind::kLink:
        return options_.topics.links;
      case TopicKind::kProfile:
        return options_.topics.profiles;
      case TopicKind::kHandoff:
        return options_.topics.handoff;
    }
    return options_.topics.web;
  }

  // Processes and commits the pending messages; returns the outputs.
  std::vector<OutputMessage> Run() {
    for (size_t i = 0; i < pending_.size(); ++i) {
      pending_[i].payload = payloads_[i];
      pending_[i].key = keys_[i];
    }
    std::vector<OutputMessage> out;
    counts_ = {};
    batch_->ApplyMessages(pending_, testing::NowMs(), &out, &counts_);
    auto& commit = batch_->TakeWrites();
    store_->Commit(commit.writes);
    pending_.clear();
    payloads_.clear();
    keys_.clear();
    return out;
  }

  // Feeds hand-off outputs back as input, as Kafka would.
  void Loopback(const std::vector<OutputMessage>& out) {
    for (const auto& o : out) {
      if (o.topic == options_.topics.handoff) AddRaw(TopicKind::kHandoff, o.value, o.key);
    }
  }

  v1::VisitorState Visitor(const std::string& key) {
    std::string v;
    v1::VisitorState s;
    EXPECT_TRUE(store_->Get(state::Cf::kSessions, key, &v)) << key;
    EXPECT_TRUE(state::DecodeVisitor(v, &s)) << key;
    return s;
  }

  testing::TempDir dir_;
  ProcessorOptions options_;
  std::unique_ptr<state::StateStore> store_;
  CountingEncoder encoder_;
  std::unique_ptr<BatchProcessor> batch_;
  std::vector<InputMessage> pending_;
  std::deque<std::string> payloads_, keys_;
  std::map<std::string, int64_t> next_offset_;
  BatchCounts counts_;
  const int64_t t0_ = testing::NowMs() - 3'600'000;
};

TEST_F(BatchProcessorTest, WebHistoryFollowsTheLinkToTheCustomer) {
  Add(TopicKind::kWeb, testing::Web("w1", "anon", t0_), "anon");
  Add(TopicKind::kWeb, testing::Web("w2", "anon", t0_ + 1000, "/mortgages/calculator"), "anon");
  Add(TopicKind::kLink, testing::Link("l1", "anon", "cust", t0_ + 2000), "anon");
  auto out = Run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, options_.topics.handoff);
  EXPECT_EQ(out[0].key, "cust");
  v1::IdentityHandoff h;
  ASSERT_TRUE(h.ParseFromString(out[0].value));
  EXPECT_EQ(h.handoff_id(), "l1");
  EXPECT_EQ(h.events_size(), 2);
  EXPECT_EQ(h.web_events_total(), 2u);

  Loopback(out);
  Add(TopicKind::kApp, testing::App("a1", "cust", t0_ + 3000), "cust");
  Add(TopicKind::kWeb, testing::Web("w3", "anon", t0_ + 4000), "anon");  // after the link
  out = Run();
  ASSERT_EQ(out.size(), 1u) << "the later web event is forwarded";
  Loopback(out);
  Run();

  const auto customer = Visitor(state::CustomerKey("cust"));
  EXPECT_EQ(customer.events_total(), 1u);
  EXPECT_EQ(customer.app_events(), 1u);
  EXPECT_EQ(customer.merged_web_events(), 3u);
  ASSERT_EQ(customer.events_size(), 4);
  EXPECT_EQ(customer.events(0).category(), "/credit-cards/travel-rewards");
  EXPECT_EQ(customer.events(1).category(), "/mortgages/calculator");
  EXPECT_EQ(customer.events(2).source(), v1::SOURCE_APP);
  EXPECT_EQ(customer.events(3).time_ms(), t0_ + 4000);
  const auto anon = Visitor(state::AnonymousKey("anon"));
  EXPECT_EQ(anon.linked_customer_id(), "cust");
  EXPECT_EQ(anon.web_events(), 3u);
  std::string linked;
  ASSERT_TRUE(store_->Get(state::Cf::kIdentity, state::AnonymousKey("anon"), &linked));
  EXPECT_EQ(linked, "cust");
  EXPECT_EQ(customer.model_version(), "counting-1");
}

TEST_F(BatchProcessorTest, LinkBeforeWebEventsStillMergesThem) {
  Add(TopicKind::kLink, testing::Link("l1", "anon", "cust", t0_), "anon");
  Add(TopicKind::kWeb, testing::Web("w1", "anon", t0_ + 1000), "anon");
  auto out = Run();
  ASSERT_EQ(out.size(), 2u);
  Loopback(out);
  Run();
  const auto customer = Visitor(state::CustomerKey("cust"));
  EXPECT_EQ(customer.merged_web_events(), 1u);
  EXPECT_EQ(customer.events_size(), 1);
}

TEST_F(BatchProcessorTest, ReplayedInputIsCountedOnce) {
  auto add_all = [&] {
    Add(TopicKind::kWeb, testing::Web("w1", "anon", t0_), "anon");
    Add(TopicKind::kWeb, testing::Web("w1", "anon", t0_), "anon");  // duplicate in-batch
    Add(TopicKind::kApp, testing::App("a1", "cust", t0_), "cust");
  };
  add_all();
  Run();
  EXPECT_EQ(counts_.accepted, 2u);
  EXPECT_EQ(counts_.duplicates, 1u);
  add_all();  // a replay after a crash
  Run();
  EXPECT_EQ(counts_.accepted, 0u);
  EXPECT_EQ(counts_.duplicates, 3u);
  EXPECT_EQ(Visitor(state::AnonymousKey("anon")).events_total(), 1u);
  EXPECT_EQ(Visitor(state::CustomerKey("cust")).events_total(), 1u);
}

TEST_F(BatchProcessorTest, OffsetsCommitWithTheState) {
  Add(TopicKind::kWeb, testing::Web("w1", "anon", t0_), "anon");
  Add(TopicKind::kWeb, testing::Web("w2", "anon", t0_ + 1), "anon");
  Add(TopicKind::kApp, testing::App("a1", "cust", t0_), "cust");
  Run();
  EXPECT_EQ(store_->GetOffset({"web-events", Partition{0}}), Offset{2});
  EXPECT_EQ(store_->GetOffset({"app-events", Partition{0}}), Offset{1});
  EXPECT_FALSE(store_->GetOffset({"identity-links", Partition{0}}).has_value());
}

TEST_F(BatchProcessorTest, BadInputBecomesADeadLetterAndTheStreamGoesOn) {
  AddRaw(TopicKind::kWeb, "{not json", "anon");
  Add(TopicKind::kWeb, testing::Web("w1", "anon", t0_), "anon");
  const auto out = Run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "dead-letters");
  v1::DeadLetter dl;
  ASSERT_TRUE(dl.ParseFromString(out[0].value));
  EXPECT_EQ(dl.reason(), v1::DEAD_LETTER_REASON_INVALID_JSON);
  EXPECT_EQ(dl.original_payload(), "{not json");
  EXPECT_EQ(dl.source_topic(), "web-events");
  EXPECT_EQ(dl.source_offset(), 0);
  EXPECT_EQ(counts_.accepted, 1u);
  EXPECT_EQ(store_->GetOffset({"web-events", Partition{0}}), Offset{2}) << "bad input is consumed";
}

TEST_F(BatchProcessorTest, LatestProfileWins) {
  auto newer = testing::Profile("cust", t0_ + 1000, true);
  auto older = testing::Profile("cust", t0_, false);
  Add(TopicKind::kProfile, newer, "cust");
  Add(TopicKind::kProfile, older, "cust");
  Run();
  std::string v;
  ASSERT_TRUE(store_->Get(state::Cf::kProfiles, "cust", &v));
  v1::CustomerProfile p;
  p.ParseFromString(v);
  EXPECT_TRUE(p.marketing_consent());
}

TEST_F(BatchProcessorTest, AnonymousSideRunsOnceCustomerSideOncePerStep) {
  Add(TopicKind::kWeb, testing::Web("w1", "anon", t0_), "anon");
  Add(TopicKind::kWeb, testing::Web("w2", "anon", t0_ + 1), "anon");
  Add(TopicKind::kApp, testing::App("a1", "cust", t0_), "cust");
  Add(TopicKind::kApp, testing::App("b1", "other", t0_ + 1), "other");
  Run();
  EXPECT_EQ(encoder_.calls, 2) << "one step for both customers, one run for the web side";
  EXPECT_EQ(encoder_.visitors_seen, 3u);
  const auto anon = Visitor(state::AnonymousKey("anon"));
  ASSERT_EQ(anon.embedding().size(), sizeof(float));
  float n = 0;
  std::memcpy(&n, anon.embedding().data(), sizeof n);
  EXPECT_EQ(n, 2.0f);
}

// Records what the operator is shown: every step's (customer, event id, events in state).
class RecordingOperator : public op::DecisionOperator {
 public:
  void Decide(std::span<op::VisitorUpdate> updates, op::StateWriter& state,
              op::DecisionSink&) override {
    ++steps;
    for (const auto& u : updates) {
      std::string line = std::string(u.customer_id.empty() ? u.anonymous_id : u.customer_id) + ":" +
                         std::string(u.event.event_id) + ":" +
                         std::to_string(u.state->events_size());
      if (!u.customer_id.empty()) {
        const auto* p = state.Profile(u.customer_id);
        line += p != nullptr && p->marketing_consent() ? ":consent" : ":-";
      }
      seen.push_back(line);
    }
  }
  void Flush(op::StateWriter&) override { ++flushes; }
  void ForgetTasks() override {}
  int steps = 0, flushes = 0;
  std::vector<std::string> seen;
};

TEST_F(BatchProcessorTest, EachCustomerEventIsDecidedAsOfItself) {
  RecordingOperator op;
  batch_ = std::make_unique<BatchProcessor>(options_, *store_, nullptr, nullptr, &op, "test");
  Add(TopicKind::kApp, testing::App("a1", "cust", t0_, v1::APP_ACTION_LOGIN), "cust");
  Add(TopicKind::kApp, testing::App("b1", "other", t0_ + 1), "other");
  // A later event and a profile change for the same customer: the decision at a1 must
  // see neither.
  Add(TopicKind::kProfile, testing::Profile("cust", t0_ + 2, true), "cust");
  Add(TopicKind::kApp, testing::App("a2", "cust", t0_ + 3), "cust");
  Run();
  EXPECT_EQ(op.seen,
            (std::vector<std::string>{"cust:a1:1:-", "other:b1:1:-", "cust:a2:2:consent"}));
  EXPECT_EQ(op.steps, 2);
  EXPECT_EQ(op.flushes, 1) << "once, before the commit";
}

// Emits one decision and one trigger for every customer of a step.
class EmittingOperator : public op::DecisionOperator {
 public:
  void Decide(std::span<op::VisitorUpdate> updates, op::StateWriter&,
              op::DecisionSink& sink) override {
    for (const auto& u : updates) {
      if (u.customer_id.empty()) continue;
      v1::Decision d;
      d.set_customer_id(std::string(u.customer_id));
      d.set_trigger_event_id(std::string(u.event.event_id));
      sink.Emit(d);
      v1::Trigger t;
      t.set_customer_id(std::string(u.customer_id));
      sink.Emit(t);
    }
  }
  void Flush(op::StateWriter&) override {}
  void ForgetTasks() override {}
};

TEST_F(BatchProcessorTest, DecisionsCarryTheArrivalOfTheEventThatMadeThem) {
  EmittingOperator op;
  batch_ = std::make_unique<BatchProcessor>(options_, *store_, nullptr, nullptr, &op, "test");
  // Two steps (cust changes twice), each decision timed from its own event.
  Add(TopicKind::kApp, testing::App("a1", "cust", t0_), "cust");
  pending_.back().arrival_us = 1000;
  Add(TopicKind::kWeb, testing::Web("w1", "anon", t0_), "anon");
  pending_.back().arrival_us = 1500;
  Add(TopicKind::kApp, testing::App("b1", "other", t0_ + 1), "other");
  pending_.back().arrival_us = 2000;
  Add(TopicKind::kApp, testing::App("a2", "cust", t0_ + 2), "cust");
  pending_.back().arrival_us = 3000;
  std::vector<std::string> got;
  for (const auto& o : Run()) {
    if (o.topic == options_.topics.decisions) {
      EXPECT_EQ(o.kind, OutputMessage::Kind::kDecision);
      v1::Decision d;
      ASSERT_TRUE(d.ParseFromString(o.value));
      got.push_back(d.trigger_event_id() + "@" + std::to_string(o.source_arrival_us));
    } else if (o.topic == options_.topics.triggers) {
      EXPECT_EQ(o.kind, OutputMessage::Kind::kTrigger);
      got.push_back(o.key + "!" + std::to_string(o.source_arrival_us));
    } else {
      EXPECT_EQ(o.kind, OutputMessage::Kind::kOther) << o.topic;
      EXPECT_EQ(o.source_arrival_us, 0) << o.topic;
    }
  }
  EXPECT_EQ(got, (std::vector<std::string>{"a1@1000", "cust!1000", "b1@2000", "other!2000",
                                           "a2@3000", "cust!3000"}));
}

TEST_F(BatchProcessorTest, ProfileTombstoneErasesTheCustomerAndItsLinkedHistory) {
  Add(TopicKind::kWeb, testing::Web("w1", "anon", t0_), "anon");
  Add(TopicKind::kLink, testing::Link("l1", "anon", "cust", t0_ + 1), "anon");
  Add(TopicKind::kProfile, testing::Profile("cust", t0_), "cust");
  Loopback(Run());
  Run();
  ASSERT_EQ(Visitor(state::CustomerKey("cust")).merged_web_events(), 1u);
  // The tombstone: a null value on the compacted profile topic.
  AddRaw(TopicKind::kProfile, "", "cust");
  pending_.back().null_payload = true;
  pending_.back().kafka_timestamp_ms = t0_ + 10;
  Run();
  EXPECT_EQ(counts_.erased, 1u);
  EXPECT_EQ(counts_.dead_letters, 0u) << "a tombstone is not bad input";
  std::string v;
  EXPECT_FALSE(store_->Get(state::Cf::kSessions, state::CustomerKey("cust"), &v));
  EXPECT_FALSE(store_->Get(state::Cf::kSessions, state::AnonymousKey("anon"), &v));
  EXPECT_FALSE(store_->Get(state::Cf::kProfiles, "cust", &v));
  EXPECT_FALSE(store_->Get(state::Cf::kIdentity, state::AnonymousKey("anon"), &v));
  // A hand-off from before the erasure (re-delivered, or from another process holding
  // the cookie) does not re-create the customer; a new link after it does.
  v1::IdentityHandoff late;
  late.set_handoff_id("w9");
  late.set_anonymous_id("anon");
  late.set_customer_id("cust");
  late.set_link_time_ms(t0_ + 1);
  late.set_event_time_ms(t0_ + 20);
  Add(TopicKind::kHandoff, late, "cust");
  Run();
  EXPECT_FALSE(store_->Get(state::Cf::kSessions, state::CustomerKey("cust"), &v));
  late.set_handoff_id("l2");
  late.set_link_time_ms(t0_ + 30);
  Add(TopicKind::kHandoff, late, "cust");
  Run();
  EXPECT_TRUE(store_->Get(state::Cf::kSessions, state::CustomerKey("cust"), &v));
}

TEST_F(BatchProcessorTest, InputOnAnotherPartitionThanItsKeyIsRejected) {
  batch_->SetPartitionCount(4);
  const std::string key = "anon-7";
  const int32_t right = KafkaMurmur2Partition(key, 4);
  Add(TopicKind::kWeb, testing::Web("w1", key, t0_), key);
  pending_.back().partition = Partition{(right + 1) % 4};
  Add(TopicKind::kWeb, testing::Web("w2", key, t0_), key);
  pending_.back().partition = Partition{right};
  const auto out = Run();
  ASSERT_EQ(out.size(), 1u);
  v1::DeadLetter dl;
  ASSERT_TRUE(dl.ParseFromString(out[0].value));
  EXPECT_EQ(dl.reason(), v1::DEAD_LETTER_REASON_WRONG_PARTITION);
  EXPECT_NE(dl.detail().find("belongs to partition " + std::to_string(right)), std::string::npos)
      << dl.detail();
  EXPECT_EQ(counts_.accepted, 1u);
}

TEST_F(BatchProcessorTest, HandoffsAreTimestampedWithTheirEventTime) {
  Add(TopicKind::kLink, testing::Link("l1", "anon", "cust", t0_ + 5), "anon");
  const auto out = Run();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].timestamp_ms, t0_ + 5);
  InputRecord r;
  r.message = {TopicKind::kHandoff,
               options_.topics.handoff,
               Partition{0},
               Offset{0},
               out[0].key,
               out[0].value,
               0};
  batch_->Decode(&r, testing::NowMs());
  EXPECT_FALSE(r.rejection.has_value());
  EXPECT_EQ(r.time_ms, t0_ + 5);
}

// Keys in `dedup`, by their prefix ("e/", "h/", "k/").
std::map<std::string, int> DedupKeysByKind(const state::StateStore& store) {
  std::map<std::string, int> kinds;
  store.ForEach(state::Cf::kDedup, [&](std::string_view key, std::string_view) {
    ++kinds[std::string(key.substr(0, 2))];
  });
  return kinds;
}

TEST_F(BatchProcessorTest, OwnEventsAreDeduplicatedByTheWindowAndWhatLeftIt) {
  options_.session.max_events = 3;
  for (int i = 1; i <= 5; ++i) {
    Add(TopicKind::kWeb, testing::Web("w" + std::to_string(i), "anon", t0_ + i * 1000), "anon");
  }
  Run();
  ASSERT_EQ(counts_.accepted, 5u);
  // One `dedup` key per event that left the window, none for those it holds.
  EXPECT_EQ(DedupKeysByKind(*store_), (std::map<std::string, int>{{"k/", 2}}));
  std::string v;
  EXPECT_TRUE(store_->Get(state::Cf::kDedup, state::EvictedEventDedupKey(Fnv1a64("w1")), &v));
  // Re-delivered: one the window holds, one that left it, one that never entered it
  // (older than the full window when it came), in a later batch.
  Add(TopicKind::kWeb, testing::Web("w5", "anon", t0_ + 5000), "anon");
  Add(TopicKind::kWeb, testing::Web("w1", "anon", t0_ + 1000), "anon");
  Add(TopicKind::kWeb, testing::Web("old", "anon", t0_), "anon");
  Run();
  EXPECT_EQ(counts_.duplicates, 2u);
  EXPECT_EQ(counts_.accepted, 1u);
  Add(TopicKind::kWeb, testing::Web("old", "anon", t0_), "anon");
  Run();
  EXPECT_EQ(counts_.duplicates, 1u);
  const auto anon = Visitor(state::AnonymousKey("anon"));
  EXPECT_EQ(anon.events_total(), 6u);
  ASSERT_EQ(anon.events_size(), 3);
  EXPECT_EQ(anon.events(0).event_key(), Fnv1a64("w3"));
  EXPECT_EQ(anon.evicted_through_ms(), t0_ + 2000);
}

TEST_F(BatchProcessorTest, AnErasedCustomersEventsStaySeen) {
  Add(TopicKind::kApp, testing::App("a1", "cust", t0_), "cust");
  Run();
  AddRaw(TopicKind::kProfile, "", "cust");
  pending_.back().null_payload = true;
  pending_.back().kafka_timestamp_ms = t0_ + 10;
  Run();
  ASSERT_EQ(counts_.erased, 1u);
  Add(TopicKind::kApp, testing::App("a1", "cust", t0_), "cust");  // a late duplicate
  Run();
  EXPECT_EQ(counts_.duplicates, 1u);
  std::string v;
  EXPECT_FALSE(store_->Get(state::Cf::kSessions, state::CustomerKey("cust"), &v));
  Add(TopicKind::kApp, testing::App("a2", "cust", t0_ + 20), "cust");  // new activity
  Run();
  EXPECT_EQ(counts_.accepted, 1u);
  EXPECT_EQ(Visitor(state::CustomerKey("cust")).events_total(), 1u);
}

// A state directory as the previous release wrote it: visitor values in format 0 (the
// serialized VisitorState) and one "e/<event id>" dedup entry per event.
TEST_F(BatchProcessorTest, StateWrittenByThePreviousFormatIsReadAndUpgradedInPlace) {
  options_.session.max_events = 2;
  v1::VisitorState old;
  std::vector<std::string> old_ids = {"w1", "w2", "w3"};
  for (size_t i = 0; i < old_ids.size(); ++i) {
    state::ApplyOwnEvent(
        &old, ingest::ToSessionEvent(testing::Web(old_ids[i], "anon", t0_ + 1000 * int64_t(i))),
        options_.session);
  }
  old.clear_evicted_through_ms();  // the previous release had no such field
  old.set_updated_at_ms(testing::NowMs());
  ASSERT_EQ(old.events_size(), 2);  // w1 is no longer in the window
  {
    auto w = store_->NewWriteSet();
    std::string legacy;
    state::EncodeLegacyVisitor(old, &legacy);
    w.Put(state::Cf::kSessions, state::AnonymousKey("anon"), legacy);
    for (const auto& id : old_ids) {
      w.Put(state::Cf::kDedup, state::EventDedupKey(id), state::ExpiryFilter::EncodeWriteTime(1));
    }
    store_->Commit(w);
  }
  // Reads as the same visitor.
  v1::VisitorState read = Visitor(state::AnonymousKey("anon"));
  EXPECT_EQ(read.events_total(), 3u);
  ASSERT_EQ(read.events_size(), 2);
  EXPECT_EQ(read.events(0).event_key(), old.events(0).event_key());
  EXPECT_EQ(read.events(1).category(), old.events(1).category());
  // Duplicates of what the old release applied, in the window or not, stay duplicates.
  Add(TopicKind::kWeb, testing::Web("w1", "anon", t0_), "anon");
  Add(TopicKind::kWeb, testing::Web("w3", "anon", t0_ + 2000), "anon");
  Add(TopicKind::kWeb, testing::Web("w4", "anon", t0_ + 3000), "anon");
  Run();
  EXPECT_EQ(counts_.duplicates, 2u);
  EXPECT_EQ(counts_.accepted, 1u);
  std::string stored;
  ASSERT_TRUE(store_->Get(state::Cf::kSessions, state::AnonymousKey("anon"), &stored));
  EXPECT_EQ(state::FormatOf(stored), state::VisitorFormat::kCompact) << "rewritten in format 1";
  const v1::VisitorState now = Visitor(state::AnonymousKey("anon"));
  EXPECT_EQ(now.events_total(), 4u);
  ASSERT_EQ(now.events_size(), 2);
  EXPECT_EQ(now.events(0).event_key(), Fnv1a64("w3"));
  EXPECT_EQ(now.events(1).event_key(), Fnv1a64("w4"));
  EXPECT_EQ(now.legacy_dedup_through_ms(), t0_ + 2000) << "kept across the rewrite";
  // Still a duplicate after the rewrite.
  Add(TopicKind::kWeb, testing::Web("w2", "anon", t0_ + 1000), "anon");
  Run();
  EXPECT_EQ(counts_.duplicates, 1u);
}

}  // namespace
}  // namespace intentstream::runtime
