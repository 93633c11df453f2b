// Builders for input events used across tests.
#pragma once

#include <cstdint>
#include <string>

#include "intentstream/v1/events.pb.h"

namespace intentstream::testing {

inline void SetTime(google::protobuf::Timestamp* ts, int64_t ms) {
  ts->set_seconds(ms / 1000);
  ts->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
}

inline v1::WebEvent Web(const std::string& id, const std::string& anon, int64_t ms,
                        const std::string& path = "/credit-cards/travel-rewards") {
  v1::WebEvent e;
  e.set_event_id(id);
  e.set_anonymous_id(anon);
  SetTime(e.mutable_event_time(), ms);
  e.set_event_type(v1::WEB_EVENT_TYPE_PAGE_VIEW);
  e.set_url_path(path);
  e.set_device(v1::DEVICE_DESKTOP);
  e.set_channel("organic");
  return e;
}

inline v1::AppEvent App(const std::string& id, const std::string& customer, int64_t ms,
                        v1::AppAction action = v1::APP_ACTION_SCREEN_VIEW,
                        const std::string& offer = "") {
  v1::AppEvent e;
  e.set_event_id(id);
  e.set_customer_id(customer);
  SetTime(e.mutable_event_time(), ms);
  e.set_action(action);
  e.set_screen("home");
  e.set_offer_id(offer);
  e.set_device(v1::DEVICE_IOS_APP);
  return e;
}

inline v1::IdentityLink Link(const std::string& id, const std::string& anon,
                             const std::string& customer, int64_t ms) {
  v1::IdentityLink l;
  l.set_event_id(id);
  l.set_anonymous_id(anon);
  l.set_customer_id(customer);
  SetTime(l.mutable_event_time(), ms);
  l.set_method(v1::LINK_METHOD_WEB_LOGIN);
  return l;
}

inline v1::CustomerProfile Profile(const std::string& customer, int64_t ms, bool consent = true) {
  v1::CustomerProfile p;
  p.set_customer_id(customer);
  SetTime(p.mutable_updated_time(), ms);
  p.set_marketing_consent(consent);
  p.set_age_band(v1::AGE_BAND_35_44);
  return p;
}

}  // namespace intentstream::testing
