#include "state/visitor_state.h"

#include <gtest/gtest.h>

#include "ingest/session_event.h"
#include "support/events.h"

namespace intentstream::state {
namespace {

v1::SessionEvent Ev(const std::string& id, int64_t ms, v1::Source source = v1::SOURCE_WEB) {
  return source == v1::SOURCE_WEB ? ingest::ToSessionEvent(testing::Web(id, "a", ms))
                                  : ingest::ToSessionEvent(testing::App(id, "c", ms));
}

std::vector<int64_t> Times(const v1::VisitorState& s) {
  std::vector<int64_t> out;
  for (const auto& e : s.events()) out.push_back(e.time_ms());
  return out;
}

TEST(Sessionization, NewSessionAfterInactivityGap) {
  SessionPolicy policy{.session_gap_ms = 1000, .max_events = 64};
  v1::VisitorState s;
  ApplyOwnEvent(&s, Ev("1", 10'000), policy);
  ApplyOwnEvent(&s, Ev("2", 10'500), policy);
  EXPECT_EQ(s.session_count(), 1u);
  EXPECT_EQ(s.session_events(), 2u);
  ApplyOwnEvent(&s, Ev("3", 12'000), policy);  // gap 1500 > 1000
  EXPECT_EQ(s.session_count(), 2u);
  EXPECT_EQ(s.session_events(), 1u);
  EXPECT_EQ(s.session_start_ms(), 12'000);
  ApplyOwnEvent(&s, Ev("4", 11'000), policy);  // late event: no new session
  EXPECT_EQ(s.session_count(), 2u);
  EXPECT_EQ(s.first_seen_ms(), 10'000);
  EXPECT_EQ(s.last_event_ms(), 12'000);
  EXPECT_EQ(s.events_total(), 4u);
  EXPECT_EQ(s.web_events(), 4u);
  EXPECT_EQ(Times(s), (std::vector<int64_t>{10'000, 10'500, 11'000, 12'000}));
}

TEST(Window, KeepsNewestInOrderAndDropsDuplicates) {
  v1::VisitorState s;
  // Offered newest first: once the window is full, older events don't get in.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(InsertEvent(&s, Ev(std::to_string(i), 100 * (5 - i)), 3), i < 3) << i;
  }
  EXPECT_EQ(Times(s), (std::vector<int64_t>{300, 400, 500}));
  EXPECT_FALSE(InsertEvent(&s, Ev("0", 500), 3)) << "same event twice";
  EXPECT_FALSE(InsertEvent(&s, Ev("old", 50), 3)) << "older than a full window";
  EXPECT_TRUE(InsertEvent(&s, Ev("mid", 350), 3));
  EXPECT_EQ(Times(s), (std::vector<int64_t>{350, 400, 500}));
}

TEST(Merge, HandoffEventsInterleaveByTimeAndCountOnce) {
  SessionPolicy policy;
  v1::VisitorState customer;
  ApplyOwnEvent(&customer, Ev("app1", 2000, v1::SOURCE_APP), policy);
  v1::IdentityHandoff h;
  h.set_handoff_id("link1");
  h.set_anonymous_id("anon");
  h.set_customer_id("c");
  *h.add_events() = Ev("w1", 1000);
  *h.add_events() = Ev("w2", 3000);
  EXPECT_EQ(MergeHandoff(&customer, h, policy, 32), 2);
  EXPECT_EQ(Times(customer), (std::vector<int64_t>{1000, 2000, 3000}));
  EXPECT_EQ(customer.merged_web_events(), 2u);
  EXPECT_EQ(customer.events_total(), 1u) << "merged events are not own events";
  EXPECT_EQ(MergeHandoff(&customer, h, policy, 32), 0) << "re-delivered hand-off";
  EXPECT_EQ(customer.merged_web_events(), 2u);
  ASSERT_EQ(customer.linked_anonymous_ids_size(), 1);
  EXPECT_EQ(customer.linked_anonymous_ids(0), "anon");
}

TEST(Merge, LinkedAnonymousIdsAreBounded) {
  SessionPolicy policy;
  v1::VisitorState customer;
  for (int i = 0; i < 10; ++i) {
    v1::IdentityHandoff h;
    h.set_handoff_id("l" + std::to_string(i));
    h.set_anonymous_id("anon-" + std::to_string(i));
    h.set_customer_id("c");
    MergeHandoff(&customer, h, policy, 4);
  }
  ASSERT_EQ(customer.linked_anonymous_ids_size(), 4);
  EXPECT_EQ(customer.linked_anonymous_ids(0), "anon-6") << "the oldest are forgotten";
  EXPECT_EQ(customer.linked_anonymous_ids(3), "anon-9");
}

}  // namespace
}  // namespace intentstream::state
