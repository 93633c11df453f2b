// A reproducible input for multi-run integration tests, and the state every visitor must
// end up with, computed from the input alone (not with the processor's code): per-visitor
// sequences of web and app events interleaved at random, identity links before, among
// and after a visitor's web events, duplicate deliveries and malformed messages.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/hash.h"
#include "runtime/options.h"
#include "state/keys.h"
#include "state/store.h"
#include "state/visitor_codec.h"
#include "support/events.h"

namespace intentstream::testing {

constexpr int64_t kReferenceGapMs = 30 * 60 * 1000;  // the default session gap

struct Sent {
  std::string topic, key, payload;
};

// What a visitor's state must be, computed from the input without the processor's code.
struct Expected {
  uint64_t own_events = 0;
  uint32_t sessions = 0;
  int64_t last_ms = 0;
  uint64_t merged = 0;
  std::string linked_customer;
  std::set<std::pair<int64_t, uint64_t>> window;  // (time, event key) of all events kept
};

inline void CountOwn(Expected& e, int64_t ms) {
  if (e.own_events == 0 || ms - e.last_ms > kReferenceGapMs) ++e.sessions;
  e.last_ms = std::max(e.last_ms, ms);
  ++e.own_events;
}

struct ReferenceWorld {
  std::vector<Sent> order;                   // what to produce, in this order
  std::map<std::string, Expected> expected;  // by state key
  std::set<std::string> malformed;           // payloads that must be dead-lettered
};

inline ReferenceWorld MakeReferenceWorld(const runtime::TopicNames& topics, uint32_t seed,
                                         int64_t t0) {
  ReferenceWorld world;
  auto& expected = world.expected;
  auto& malformed = world.malformed;
  std::map<std::string, std::string> anon_to_customer;
  std::mt19937 rng(seed);
  std::vector<std::vector<Sent>> streams;
  for (int c = 0; c < 80; ++c) {
    const std::string cust = "cust-" + std::to_string(c);
    std::vector<Sent> s;
    int64_t t = t0 + c * 7000;
    const int n = 2 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      t += (rng() % 4 == 0) ? 2 * kReferenceGapMs : 60'000;
      const auto e = testing::App(cust + "-a" + std::to_string(i), cust, t);
      s.push_back({topics.app, cust, e.SerializeAsString()});
      auto& x = expected[state::CustomerKey(cust)];
      CountOwn(x, t);
      x.window.insert({t, Fnv1a64(e.event_id())});
    }
    streams.push_back(std::move(s));
  }
  for (int a = 0; a < 240; ++a) {
    const std::string anon = "anon-" + std::to_string(a);
    const bool linked = a % 2 == 0;
    const std::string cust = "cust-" + std::to_string(a % 80);
    std::vector<Sent> s;
    int64_t t = t0 + a * 5000;
    const int n = 3 + static_cast<int>(rng() % 6);
    const int link_at = linked ? static_cast<int>(rng() % (n + 1)) : -1;
    auto& x = expected[state::AnonymousKey(anon)];
    for (int i = 0; i <= n; ++i) {
      if (i == link_at) {
        s.push_back({topics.links, anon,
                     testing::Link(anon + "-l", anon, cust, t + 1).SerializeAsString()});
        x.linked_customer = cust;
        anon_to_customer[anon] = cust;
      }
      if (i == n) break;
      t += (rng() % 5 == 0) ? 2 * kReferenceGapMs : 30'000;
      const auto e = testing::Web(anon + "-w" + std::to_string(i), anon, t,
                                  "/cards/p" + std::to_string(rng() % 20));
      s.push_back({topics.web, anon, e.SerializeAsString()});
      CountOwn(x, t);
      x.window.insert({t, Fnv1a64(e.event_id())});
      if (linked) {
        auto& cx = expected[state::CustomerKey(cust)];
        cx.window.insert({t, Fnv1a64(e.event_id())});
        ++cx.merged;
      }
      if (rng() % 20 == 0) s.push_back(s.back());  // a duplicate delivery
    }
    streams.push_back(std::move(s));
  }
  // Malformed messages ride in their own streams.
  for (int m = 0; m < 40; ++m) {
    std::string payload = m % 2 == 0 ? "{\"eventId\": \"broken-" + std::to_string(m)
                                     : std::string("\x07\x01garbage-") + std::to_string(m);
    malformed.insert(payload);
    streams.push_back(
        {{m % 3 == 0 ? topics.app : topics.web, "junk-" + std::to_string(m), payload}});
  }
  auto& order = world.order;
  std::vector<size_t> next(streams.size(), 0);
  std::vector<size_t> live(streams.size());
  for (size_t i = 0; i < live.size(); ++i) live[i] = i;
  while (!live.empty()) {
    const size_t pick = rng() % live.size();
    auto& st = streams[live[pick]];
    order.push_back(st[next[live[pick]]++]);
    if (next[live[pick]] == st.size()) live.erase(live.begin() + static_cast<long>(pick));
  }

  return world;
}

// Checks every visitor in `store` against the reference (and that none is missing).
inline void ExpectStateMatches(const state::StateStore& store, const ReferenceWorld& world) {
  const auto& expected = world.expected;
  size_t visitors = 0;
  store.ForEach(state::Cf::kSessions, [&](std::string_view key, std::string_view value) {
    ++visitors;
    v1::VisitorState s;
    ASSERT_TRUE(state::DecodeVisitor(value, &s));
    const auto it = expected.find(std::string(key));
    ASSERT_NE(it, expected.end()) << "unexpected visitor " << key;
    const Expected& x = it->second;
    EXPECT_EQ(s.events_total(), x.own_events) << key;
    EXPECT_EQ(s.session_count(), x.sessions) << key;
    EXPECT_EQ(s.merged_web_events(), x.merged) << key;
    EXPECT_EQ(s.linked_customer_id(), x.linked_customer) << key;
    std::set<std::pair<int64_t, uint64_t>> window;
    for (const auto& e : s.events()) window.insert({e.time_ms(), e.event_key()});
    EXPECT_EQ(window, x.window) << key;
    EXPECT_EQ(static_cast<size_t>(s.events_size()), x.window.size()) << key << " has repeats";
  });
  EXPECT_EQ(visitors, expected.size());
}

}  // namespace intentstream::testing
