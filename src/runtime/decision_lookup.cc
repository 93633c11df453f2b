#include "runtime/decision_lookup.h"

#include <google/protobuf/util/json_util.h>

#include "common/hash.h"
#include "runtime/lookup_responses.h"
#include "state/queries.h"

namespace intentstream::runtime {

serve::HttpResponse DecisionLookup::Handle(const serve::HttpRequest& request,
                                           const std::string& prefix) const {
  const std::string id = request.path.substr(prefix.size());
  if (const std::string bad = CheckPathId(id, max_id_bytes_, "customer"); !bad.empty()) {
    return JsonError(400, bad + ": GET /v1/decisions/{customer_id}?placement=home");
  }
  std::string placement = QueryParam(request.query, "placement");
  if (placement.empty() || placement == "home") placement = "home_tile";
  if (placement != "home_tile" && placement != "push" && placement != "email" &&
      placement != "in_app") {
    return JsonError(400, "placement must be home, home_tile, push, email or in_app");
  }
  const int32_t partitions = ownership_.partition_count();
  if (partitions <= 0) return JsonError(503, "not ready: no partitions assigned");
  const int32_t partition = KafkaMurmur2Partition(id, partitions);
  if (!ownership_.owns(customer_topic_, partition)) {
    return JsonError(404, "customer's partition is owned by another process",
                     ",\"owned\":false,\"topic\":" + serve::JsonQuote(customer_topic_) +
                         ",\"partition\":" + std::to_string(partition));
  }
  std::optional<v1::Decision> decision;
  try {
    decision = state::ReadDecision(store_, id, placement);
  } catch (const state::StateError&) {
    return JsonError(500, "stored decision does not parse");
  }
  if (!decision) {
    return JsonError(404, "no decision for this customer and placement yet",
                     ",\"owned\":true,\"partition\":" + std::to_string(partition));
  }
  std::string body;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = false;
  (void)google::protobuf::util::MessageToJsonString(*decision, &body, opts);
  return JsonResponse(200, std::move(body));
}

}  // namespace intentstream::runtime
