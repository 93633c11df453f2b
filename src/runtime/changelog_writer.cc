#include "runtime/changelog_writer.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <set>
#include <stdexcept>

namespace intentstream::runtime {

namespace {
constexpr int64_t kPending = -1, kFailed = -2;
}

std::string EncodeChangelogMarker(const ChangelogEnds& ends) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [cf, end] : ends) j[std::string(state::CfName(cf))] = end;
  return j.dump();
}

std::optional<ChangelogEnds> DecodeChangelogMarker(std::string_view value) {
  const auto j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  ChangelogEnds ends;
  for (const state::Cf cf : state::ChangelogStores()) {
    const auto it = j.find(std::string(state::CfName(cf)));
    if (it == j.end()) continue;
    if (!it->is_number_integer()) return std::nullopt;
    ends[cf] = it->get<int64_t>();
  }
  return ends;
}

ChangelogWriter::ChangelogWriter(std::string group_id, int flush_timeout_ms)
    : group_id_(std::move(group_id)), flush_timeout_ms_(flush_timeout_ms) {
  for (const state::Cf cf : state::ChangelogStores()) {
    topics_[cf] = state::ChangelogTopic(group_id_, cf);
  }
}

void ChangelogWriter::dr_cb(RdKafka::Message& message) {
  const auto index = reinterpret_cast<uintptr_t>(message.msg_opaque());
  if (index == 0 || index > offsets_.size()) return;
  if (message.err() == RdKafka::ERR_NO_ERROR) {
    offsets_[index - 1] = message.offset();
  } else {
    offsets_[index - 1] = kFailed;
    errors_[index - 1] = message.errstr();
  }
}

void ChangelogWriter::Deliver(const std::vector<const state::ChangelogRecord*>& batch) {
  offsets_.assign(batch.size(), kPending);
  errors_.assign(batch.size(), "");
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& r = *batch[i];
    const std::string& topic = topics_.at(r.cf);
    while (true) {
      const auto err = producer_->produce(topic, r.partition, RdKafka::Producer::RK_MSG_COPY,
                                          r.value ? const_cast<char*>(r.value->data()) : nullptr,
                                          r.value ? r.value->size() : 0, r.key.data(), r.key.size(),
                                          0, reinterpret_cast<void*>(i + 1));
      if (err == RdKafka::ERR_NO_ERROR) break;
      if (err != RdKafka::ERR__QUEUE_FULL) {
        throw std::runtime_error("changelog topic '" + topic + "': " + RdKafka::err2str(err));
      }
      producer_->poll(10);
    }
    bytes_written_ += r.key.size() + (r.value ? r.value->size() : 0);
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(flush_timeout_ms_);
  size_t done = 0;
  while (true) {
    while (done < offsets_.size() && offsets_[done] != kPending) ++done;
    if (done == offsets_.size()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(
          "changelog records not delivered within processing.flush_timeout_ms (" +
          std::to_string(producer_->outq_len()) + " in flight)");
    }
    producer_->flush(100);
  }
  for (size_t i = 0; i < offsets_.size(); ++i) {
    if (offsets_[i] == kFailed) {
      throw std::runtime_error("changelog record not delivered to '" + topics_.at(batch[i]->cf) +
                               "' partition " + std::to_string(batch[i]->partition) + ": " +
                               errors_[i]);
    }
  }
  records_written_ += batch.size();
}

void ChangelogWriter::Write(const std::vector<state::ChangelogRecord>& records,
                            state::WriteSet* writes) {
  std::vector<const state::ChangelogRecord*> stores, meta;
  std::set<int32_t> partitions;
  for (const auto& r : records) {
    if (ends_.count(r.partition) == 0) continue;
    (r.cf == state::Cf::kMeta ? meta : stores).push_back(&r);
    partitions.insert(r.partition);
  }
  if (partitions.empty()) return;
  // Phase 1: every store but `meta`.
  Deliver(stores);
  for (size_t i = 0; i < stores.size(); ++i) {
    auto& end = ends_[stores[i]->partition][stores[i]->cf];
    end = std::max(end, offsets_[i] + 1);
  }
  // Phase 2: `meta` (input offsets among it) and the markers, in that order per partition.
  std::vector<state::ChangelogRecord> markers;
  for (const int32_t p : partitions) {
    ChangelogEnds ends = ends_[p];
    for (const state::Cf cf : state::ChangelogStores()) {
      if (cf != state::Cf::kMeta) ends.emplace(cf, 0);
    }
    markers.push_back(
        {state::Cf::kMeta, p, std::string(kChangelogMarkerKey), EncodeChangelogMarker(ends)});
  }
  for (const auto& m : markers) meta.push_back(&m);
  Deliver(meta);
  for (size_t i = 0; i < meta.size(); ++i) {
    auto& end = ends_[meta[i]->partition][state::Cf::kMeta];
    end = std::max(end, offsets_[i] + 1);
  }
  for (const int32_t p : partitions) {
    for (const auto& [cf, end] : ends_[p]) {
      writes->Put(state::Cf::kMeta, state::ChangelogPositionKey(cf, p), std::to_string(end));
    }
  }
}

}  // namespace intentstream::runtime
