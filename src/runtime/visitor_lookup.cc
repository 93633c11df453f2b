#include "runtime/visitor_lookup.h"

#include <google/protobuf/util/json_util.h>

#include "common/hash.h"
#include "intentstream/v1/state.pb.h"
#include "state/keys.h"

namespace intentstream::runtime {

namespace {

serve::HttpResponse Json(int status, std::string body) {
  return serve::HttpResponse{status, "application/json", std::move(body)};
}

serve::HttpResponse Error(int status, const std::string& message, const std::string& extra = "") {
  return Json(status, "{\"error\":" + serve::JsonQuote(message) + extra + "}");
}

// The value of `name` in a raw query string ("a=1&type=customer"); "" when absent.
std::string QueryParam(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    const size_t end = std::min(query.find('&', pos), query.size());
    const std::string pair = query.substr(pos, end - pos);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string::npos ? "" : pair.substr(eq + 1);
    pos = end + 1;
  }
  return "";
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
    std::string key;
  };
  std::vector<Candidate> candidates;
  if (type.empty() || type == "customer") {
    candidates.push_back({"customer", &customer_topic_, state::CustomerKey(id)});
  }
  if (type.empty() || type == "anonymous") {
    candidates.push_back({"anonymous", &anonymous_topic_, state::AnonymousKey(id)});
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
    std::string value;
    if (!store_.Get(state::Cf::kSessions, c.key, &value)) continue;
    v1::VisitorState state;
    if (!state.ParseFromString(value)) return Error(500, "stored state does not parse");
    const size_t dims = state.embedding().size() / sizeof(float);
    const std::string model_version = state.model_version();
    state.clear_embedding();
    std::string state_json;
    google::protobuf::util::JsonPrintOptions opts;
    opts.always_print_primitive_fields = true;
    (void)google::protobuf::util::MessageToJsonString(state, &state_json, opts);
    std::string body =
        "{\"visitorId\":" + serve::JsonQuote(id) + ",\"type\":\"" + c.type +
        "\",\"topic\":" + serve::JsonQuote(*c.topic) +
        ",\"partition\":" + std::to_string(partition) + ",\"owned\":true" + ",\"embedding\":" +
        (dims == 0 ? std::string("null")
                   : "{\"dimensions\":" + std::to_string(dims) +
                         ",\"modelVersion\":" + serve::JsonQuote(model_version) + "}") +
        ",\"decision\":null,\"state\":" + state_json + "}";
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
