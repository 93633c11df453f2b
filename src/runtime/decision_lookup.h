// GET /v1/decisions/{customer_id}?placement=home: the latest decision for a customer and
// placement from this process's committed state, so the app can read its homepage tiles
// synchronously (the same decision was produced to the `decisions` topic).
//
//   200  the decision (protobuf JSON mapping of intentstream.v1.Decision)
//   400  malformed id, or an unknown placement (home, home_tile, push, email, in_app)
//   404  no decision yet for this customer, or the customer's partition is owned by
//        another process (the body names the topic and partition)
//   503  no partitions assigned yet
//
// Thread-safe: called on HTTP worker threads; reads RocksDB and the ownership snapshot.
#pragma once

#include <string>

#include "runtime/visitor_lookup.h"
#include "serve/http_server.h"
#include "state/store.h"

namespace intentstream::runtime {

class DecisionLookup {
 public:
  DecisionLookup(const state::StateStore& store, std::string customer_topic, size_t max_id_bytes,
                 Ownership ownership)
      : store_(store),
        customer_topic_(std::move(customer_topic)),
        max_id_bytes_(max_id_bytes),
        ownership_(std::move(ownership)) {}

  // `prefix` is the route ("/v1/decisions/"); the customer id is the rest of the path.
  serve::HttpResponse Handle(const serve::HttpRequest& request, const std::string& prefix) const;

 private:
  const state::StateStore& store_;
  std::string customer_topic_;
  size_t max_id_bytes_;
  Ownership ownership_;
};

}  // namespace intentstream::runtime
