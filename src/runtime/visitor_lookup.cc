#include "runtime/visitor_lookup.h"

#include <google/protobuf/util/json_util.h>

#include "common/hash.h"
#include "intentstream/v1/state.pb.h"
#include "runtime/lookup_responses.h"
#include "state/queries.h"

namespace intentstream::runtime {

namespace {
serve::HttpResponse Json(int status, std::string body) {
  return JsonResponse(status, std::move(body));
}
serve::HttpResponse Error(int status, const std::string& message, const std::string& extra = "") {
  return JsonError(status, message, extra);
}
}  // namespace

serve::HttpResponse VisitorLookup::Handle(const serve::HttpRequest& request,
                                          const std::string& prefix) const {
  const std::string id = request.path.substr(prefix.size());
  if (id.empty()) return Error(400, "visitor id is missing: GET /v1/visitors/{id}");
  if (id.size() > max_id_bytes_) return Error(400, "visitor id is longer than the id limit");
  for (char c : id) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20) {
      return Error(400, "visitor id contains '/' or a control character");
    }
  }
  const std::string type = QueryParam(request.query, "type");
  if (!type.empty() && type != "customer" && type != "anonymous") {
    return Error(400, "type must be customer or anonymous");
  }
  const int32_t partitions = ownership_.partition_count();
  if (partitions <= 0) return Error(503, "not ready: no partitions assigned");

  struct Candidate {
    const char* type;
    const std::string* topic;
    state::VisitorKind kind;
  };
  std::vector<Candidate> candidates;
  if (type.empty() || type == "customer") {
    candidates.push_back({"customer", &customer_topic_, state::VisitorKind::kCustomer});
  }
  if (type.empty() || type == "anonymous") {
    candidates.push_back({"anonymous", &anonymous_topic_, state::VisitorKind::kAnonymous});
  }
  const int32_t partition = KafkaMurmur2Partition(id, partitions);
  std::string owners;
  for (const auto& c : candidates) {
    if (!ownership_.owns(*c.topic, partition)) {
      if (!owners.empty()) owners += ",";
      owners += "{\"type\":\"" + std::string(c.type) +
                "\",\"topic\":" + serve::JsonQuote(*c.topic) +
                ",\"partition\":" + std::to_string(partition) + "}";
      continue;
    }
    std::optional<v1::VisitorState> stored;
    try {
      stored = state::ReadVisitor(store_, c.kind, id);
    } catch (const state::StateError&) {
      return Error(500, "stored state does not parse");
    }
    if (!stored) continue;
    v1::VisitorState& state = *stored;
    const size_t dims = state.embedding().size() / sizeof(float);
    const std::string model_version = state.model_version();
    state.clear_embedding();
    // The state stage's dedup bookkeeping is not part of the visitor's answer.
    state.clear_evicted_through_ms();
    state.clear_legacy_dedup_through_ms();
    std::string state_json;
    google::protobuf::util::JsonPrintOptions opts;
    opts.always_print_primitive_fields = true;
    (void)google::protobuf::util::MessageToJsonString(state, &state_json, opts);
    std::string decision_json = "null";
    if (c.kind == state::VisitorKind::kCustomer) {
      try {
        if (const auto d = state::ReadDecision(store_, id, "home_tile")) {
          decision_json.clear();
          (void)google::protobuf::util::MessageToJsonString(*d, &decision_json);
        }
      } catch (const state::StateError&) {
        return Error(500, "stored decision does not parse");
      }
    }
    std::string body =
        "{\"visitorId\":" + serve::JsonQuote(id) + ",\"type\":\"" + c.type +
        "\",\"topic\":" + serve::JsonQuote(*c.topic) +
        ",\"partition\":" + std::to_string(partition) + ",\"owned\":true" + ",\"embedding\":" +
        (dims == 0 ? std::string("null")
                   : "{\"dimensions\":" + std::to_string(dims) +
                         ",\"modelVersion\":" + serve::JsonQuote(model_version) + "}") +
        ",\"decision\":" + decision_json + ",\"state\":" + state_json + "}";
    return Json(200, std::move(body));
  }
  if (!owners.empty()) {
    return Error(404, "visitor's partition is owned by another process",
                 ",\"owned\":false,\"owners\":[" + owners + "]");
  }
  return Error(404, "unknown visitor",
               ",\"owned\":true,\"partition\":" + std::to_string(partition));
}

}  // namespace intentstream::runtime
