#include "eval/timelines.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <unordered_set>

#include "eval/dataset.h"

namespace intentstream::eval {

namespace {

bool Before(const v1::SessionEvent* a, const v1::SessionEvent* b) {
  return a->time_ms() != b->time_ms() ? a->time_ms() < b->time_ms()
                                      : a->event_key() < b->event_key();
}

// Events of `list` with time in [from_ms, to_ms], appended.
void AppendRange(const std::vector<v1::SessionEvent>& list, int64_t from_ms, int64_t to_ms,
                 std::vector<const v1::SessionEvent*>* out) {
  auto it = std::lower_bound(list.begin(), list.end(), from_ms,
                             [](const v1::SessionEvent& e, int64_t t) { return e.time_ms() < t; });
  for (; it != list.end() && it->time_ms() <= to_ms; ++it) out->push_back(&*it);
}

}  // namespace

Timelines::Timelines(const Dataset& data) {
  for (const auto& [customer, events] : data.app_events_by_customer) {
    by_customer_[customer].app = &events;
    customers_.push_back(customer);
  }
  for (const auto& [customer, links] : data.links_by_customer) {
    for (const auto& [anonymous_id, link_ms] : links) {
      const auto web = data.web_events_by_anonymous_id.find(anonymous_id);
      if (web == data.web_events_by_anonymous_id.end()) continue;
      by_customer_[customer].linked.push_back({link_ms, &web->second});
    }
  }
  // Deterministic iteration whatever the hash maps' order.
  for (auto& [customer, c] : by_customer_) {
    std::sort(c.linked.begin(), c.linked.end(), [](const Linked& a, const Linked& b) {
      return a.link_ms != b.link_ms ? a.link_ms < b.link_ms : a.web < b.web;
    });
  }
  std::sort(customers_.begin(), customers_.end());
}

const Timelines::Customer* Timelines::Find(const std::string& customer_id) const {
  const auto it = by_customer_.find(customer_id);
  return it == by_customer_.end() ? nullptr : &it->second;
}

void Timelines::Steps(const std::string& customer_id, int64_t from_ms, int64_t to_ms,
                      const VisibleOptions& options, std::vector<Step>* out) const {
  out->clear();
  const Customer* c = Find(customer_id);
  if (c == nullptr) return;
  std::vector<const v1::SessionEvent*> events;
  if (c->app != nullptr) {
    AppendRange(*c->app, from_ms, to_ms, &events);
    for (const auto* e : events) out->push_back({e->time_ms(), e});
  }
  if (options.with_web) {
    for (const Linked& l : c->linked) {
      if (l.link_ms > to_ms) continue;
      events.clear();
      // Older events arrive with the link; take them all when the link is in range.
      AppendRange(*l.web, l.link_ms >= from_ms ? INT64_MIN : from_ms, to_ms, &events);
      for (const auto* e : events) out->push_back({std::max(e->time_ms(), l.link_ms), e});
    }
  }
  std::sort(out->begin(), out->end(), [](const Step& a, const Step& b) {
    return a.arrival_ms != b.arrival_ms ? a.arrival_ms < b.arrival_ms : Before(a.event, b.event);
  });
  // An event two linked ids share arrives once, at the first link that brings it.
  std::unordered_set<uint64_t> seen;
  out->erase(
      std::remove_if(out->begin(), out->end(),
                     [&](const Step& s) { return !seen.insert(s.event->event_key()).second; }),
      out->end());
}

void Timelines::Sessions(const std::string& customer_id, int64_t from_ms, int64_t to_ms,
                         const VisibleOptions& options, int64_t gap_ms,
                         std::vector<Span>* out) const {
  out->clear();
  std::vector<Step> steps;
  Steps(customer_id, from_ms, to_ms, options, &steps);
  for (const Step& s : steps) {
    if (out->empty() || s.arrival_ms - out->back().end_ms > gap_ms) {
      out->push_back({s.arrival_ms, s.arrival_ms, s.event->event_key(), 0});
    }
    out->back().end_ms = s.arrival_ms;
    ++out->back().events;
  }
}

std::string Timelines::SessionId(const std::string& customer_id, const Span& span) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(span.first_event_key));
  return customer_id + "/" + buf;
}

std::vector<SessionWindow> BuildSessionWindows(const Dataset& data, const Timelines& timelines,
                                               const VisibleOptions& options, int64_t gap_ms) {
  std::vector<SessionWindow> out;
  std::vector<Timelines::Span> spans;
  for (const std::string& customer : timelines.customers()) {
    timelines.Sessions(customer, INT64_MIN, INT64_MAX, options, gap_ms, &spans);
    for (const auto& span : spans) {
      SessionWindow w;
      w.id = Timelines::SessionId(customer, span);
      w.customer_id = customer;
      w.start_ms = span.start_ms;
      w.end_ms = span.end_ms;
      w.split = data.SplitOf(span.end_ms);
      timelines.Visible(customer, span.end_ms, options, &w.events);
      out.push_back(std::move(w));
    }
  }
  return out;
}

void Timelines::Visible(const std::string& customer_id, int64_t time_ms,
                        const VisibleOptions& options,
                        std::vector<const v1::SessionEvent*>* out) const {
  out->clear();
  const Customer* c = Find(customer_id);
  if (c == nullptr) return;
  // Collect only what can be in the window: the last max_events of each source.
  const auto take_last = [&](const std::vector<v1::SessionEvent>& list) {
    auto end =
        std::upper_bound(list.begin(), list.end(), time_ms,
                         [](int64_t t, const v1::SessionEvent& e) { return t < e.time_ms(); });
    auto begin = list.begin();
    if (options.max_events > 0 && end - begin > options.max_events)
      begin = end - options.max_events;
    for (auto it = begin; it != end; ++it) out->push_back(&*it);
  };
  if (c->app != nullptr) take_last(*c->app);
  if (options.with_web) {
    for (const Linked& l : c->linked) {
      if (l.link_ms <= time_ms) take_last(*l.web);
    }
  }
  std::sort(out->begin(), out->end(), Before);
  out->erase(std::unique(out->begin(), out->end(),
                         [](const v1::SessionEvent* a, const v1::SessionEvent* b) {
                           return a->event_key() == b->event_key();
                         }),
             out->end());
  if (options.max_events > 0 && out->size() > static_cast<size_t>(options.max_events)) {
    out->erase(out->begin(), out->end() - options.max_events);
  }
}

}  // namespace intentstream::eval
