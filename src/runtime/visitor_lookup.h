// GET /v1/visitors/{id}[?type=customer|anonymous]: a visitor's session state from this
// process's committed state (an interactive query, as Kafka Streams has).
//
//   200  the visitor is in a partition this process owns: state, embedding metadata
//   400  malformed id or type
//   404  unknown visitor in an owned partition, or a partition another process owns
//        (the body names the topic and partition that own the key)
//   503  no partitions assigned yet
//
// Thread-safe: called on HTTP worker threads; reads RocksDB and the ownership snapshot.
#pragma once

#include <functional>
#include <string>

#include "serve/http_server.h"
#include "state/store.h"

namespace intentstream::runtime {

// Which input partitions this process owns right now, and how many there are.
struct Ownership {
  std::function<bool(const std::string& topic, int32_t partition)> owns;
  std::function<int32_t()> partition_count;  // 0 while unknown
};

class VisitorLookup {
 public:
  VisitorLookup(const state::StateStore& store, std::string anonymous_topic,
                std::string customer_topic, size_t max_id_bytes, Ownership ownership)
      : store_(store),
        anonymous_topic_(std::move(anonymous_topic)),
        customer_topic_(std::move(customer_topic)),
        max_id_bytes_(max_id_bytes),
        ownership_(std::move(ownership)) {}

  // `prefix` is the route ("/v1/visitors/"); the id is the rest of the path.
  serve::HttpResponse Handle(const serve::HttpRequest& request, const std::string& prefix) const;

 private:
  const state::StateStore& store_;
  std::string anonymous_topic_;
  std::string customer_topic_;
  size_t max_id_bytes_;
  Ownership ownership_;
};

}  // namespace intentstream::runtime
