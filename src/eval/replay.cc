#include "eval/replay.h"

#include "ingest/session_event.h"

namespace intentstream::eval {

void WorldReplay::Handoff(const v1::IdentityHandoff& h) {
  state::MergeHandoff(&customers_[h.customer_id()], h, options_.session, options_.max_linked_ids);
}

void WorldReplay::Web(const v1::WebEvent& e) {
  v1::VisitorState& v = anonymous_[e.anonymous_id()];
  const v1::SessionEvent se = ingest::ToSessionEvent(e);
  state::ApplyOwnEvent(&v, se, options_.session);
  // A linked anonymous id keeps feeding its customer's session (BatchProcessor::ApplyWeb).
  if (!v.linked_customer_id().empty()) {
    v1::IdentityHandoff h;
    h.set_handoff_id(e.event_id());
    h.set_anonymous_id(e.anonymous_id());
    h.set_customer_id(v.linked_customer_id());
    h.set_link_time_ms(v.linked_at_ms());
    h.set_event_time_ms(se.time_ms());
    *h.add_events() = se;
    Handoff(h);
  }
}

void WorldReplay::Link(const v1::IdentityLink& link) {
  v1::VisitorState& v = anonymous_[link.anonymous_id()];
  const int64_t t = ingest::TimestampToMillis(link.event_time());
  v.set_linked_customer_id(link.customer_id());
  v.set_linked_at_ms(t);
  // The web history so far travels to the customer (BatchProcessor::ApplyLink).
  v1::IdentityHandoff h;
  h.set_handoff_id(link.event_id());
  h.set_anonymous_id(link.anonymous_id());
  h.set_customer_id(link.customer_id());
  h.set_link_time_ms(t);
  h.set_event_time_ms(t);
  *h.mutable_events() = v.events();
  h.set_web_events_total(v.web_events());
  Handoff(h);
}

void WorldReplay::Profile(const v1::CustomerProfile& profile) {
  profiles_[profile.customer_id()] = profile;
}

void WorldReplay::App(const v1::AppEvent& e, const DecisionPointFn& on_login) {
  const v1::SessionEvent se = ingest::ToSessionEvent(e);
  v1::VisitorState& v = customers_[e.customer_id()];
  state::ApplyOwnEvent(&v, se, options_.session);
  v1::VisitorState& own = app_only_[e.customer_id()];
  state::ApplyOwnEvent(&own, se, options_.session);
  if (e.action() != v1::APP_ACTION_LOGIN || !on_login) return;
  DecisionPoint point;
  point.login = &e;
  point.customer_id = e.customer_id();
  point.time_ms = se.time_ms();
  point.state = &v;
  point.app_only = &own;
  const auto p = profiles_.find(e.customer_id());
  point.profile = p == profiles_.end() ? nullptr : &p->second;
  on_login(point);
}

const v1::VisitorState* WorldReplay::Customer(std::string_view customer_id) const {
  const auto it = customers_.find(std::string(customer_id));
  return it == customers_.end() ? nullptr : &it->second;
}

}  // namespace intentstream::eval
