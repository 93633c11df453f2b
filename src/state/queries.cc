#include "state/queries.h"

#include "state/keys.h"
#include "state/visitor_codec.h"

namespace intentstream::state {

namespace {
template <typename M>
std::optional<M> Read(const StateStore& store, Cf cf, const std::string& key) {
  std::string value;
  if (!store.Get(cf, key, &value)) return std::nullopt;
  M m;
  if (!m.ParseFromString(value)) {
    throw StateError("corrupt value in " + std::string(CfName(cf)) + " for key '" + key + "'");
  }
  return m;
}
}  // namespace

std::optional<v1::VisitorState> ReadVisitor(const StateStore& store, VisitorKind kind,
                                            std::string_view id) {
  const std::string key = kind == VisitorKind::kAnonymous ? AnonymousKey(id) : CustomerKey(id);
  std::string value;
  if (!store.Get(Cf::kSessions, key, &value)) return std::nullopt;
  v1::VisitorState state;
  if (!DecodeVisitor(value, &state)) {
    throw StateError("corrupt value in " + std::string(CfName(Cf::kSessions)) + " for key '" + key +
                     "'");
  }
  return state;
}

std::optional<v1::Decision> ReadDecision(const StateStore& store, std::string_view customer_id,
                                         std::string_view placement) {
  return Read<v1::Decision>(store, Cf::kDecisions, DecisionKey(customer_id, placement));
}

std::optional<v1::CustomerOffers> ReadCustomerOffers(const StateStore& store,
                                                     std::string_view customer_id) {
  return Read<v1::CustomerOffers>(store, Cf::kOffers, CustomerKey(customer_id));
}

std::optional<v1::CustomerProfile> ReadProfile(const StateStore& store,
                                               std::string_view customer_id) {
  return Read<v1::CustomerProfile>(store, Cf::kProfiles, std::string(customer_id));
}

}  // namespace intentstream::state
