#include "runtime/output_producer.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/clock.h"
#include "ingest/dead_letter.h"
#include "serve/processor_probe.h"

namespace intentstream::runtime {

namespace {
constexpr uint8_t kPending = 0, kDelivered = 1, kTransient = 2, kPermanent = 3;
}

OutputProducer::OutputProducer(Options options, const Logger& log)
    : options_(std::move(options)), log_(log) {}

bool OutputProducer::Permanent(RdKafka::ErrorCode err) {
  switch (err) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
    case RdKafka::ERR_INVALID_MSG:
    case RdKafka::ERR_INVALID_RECORD:
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR_TOPIC_EXCEPTION:
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR__UNKNOWN_PARTITION:
    case RdKafka::ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

void OutputProducer::dr_cb(RdKafka::Message& message) {
  const auto index = reinterpret_cast<uintptr_t>(message.msg_opaque());
  if (index == 0 || index > status_.size()) return;  // not from the current Deliver()
  const size_t i = index - 1;
  if (message.err() == RdKafka::ERR_NO_ERROR) {
    status_[i] = kDelivered;
    delivered_us_[i] = SteadyMicros();
    return;
  }
  status_[i] = Permanent(message.err()) ? kPermanent : kTransient;
  errors_[i] = message.errstr();
}

RdKafka::ErrorCode OutputProducer::ProduceOne(const OutputMessage& o, size_t index,
                                              const std::atomic<bool>& stop) {
  while (true) {
    const auto err = producer_->produce(
        o.topic, o.partition >= 0 ? o.partition : RdKafka::Topic::PARTITION_UA,
        RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(o.value.data()), o.value.size(),
        o.key.data(), o.key.size(), o.timestamp_ms, reinterpret_cast<void*>(index + 1));
    if (err != RdKafka::ERR__QUEUE_FULL) return err;
    if (stop.load()) throw DeliveryInterrupted("stop requested while the producer queue is full");
    producer_->poll(50);  // queue full: serve delivery reports, then retry
  }
}

OutputMessage OutputProducer::UndeliverableDeadLetter(const OutputMessage& o,
                                                      const std::string& error) const {
  const std::string_view value(o.value.data(),
                               std::min(o.value.size(), options_.max_dead_letter_copy));
  ingest::Rejection why{v1::DEAD_LETTER_REASON_UNDELIVERABLE_OUTPUT,
                        "output to '" + o.topic + "' (" + std::to_string(o.value.size()) +
                            " bytes) not deliverable: " + error +
                            (value.size() < o.value.size() ? "; payload truncated" : "")};
  const auto dl = ingest::MakeDeadLetter({o.topic, Partition{o.partition}, Offset{-1}}, value,
                                         o.key, why, WallMillis(), options_.processor_version);
  return OutputMessage{options_.dead_letter_topic, o.key, dl.SerializeAsString()};
}

void OutputProducer::Deliver(const std::vector<OutputMessage>& outputs,
                             const std::atomic<bool>& stop) {
  if (outputs.empty()) return;
  std::vector<OutputMessage> batch = outputs;
  // Dead letters replacing undeliverable outputs of this batch; retried, never replaced.
  std::vector<bool> is_replacement(batch.size(), false);
  status_.assign(batch.size(), kPending);
  errors_.assign(batch.size(), "");
  delivered_us_.assign(batch.size(), 0);
  std::vector<size_t> todo(batch.size());
  for (size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  int backoff_ms = 100;
  while (!todo.empty()) {
    for (size_t i : todo) {
      status_[i] = kPending;
      const auto err = ProduceOne(batch[i], i, stop);
      if (err != RdKafka::ERR_NO_ERROR) {
        status_[i] = Permanent(err) ? kPermanent : kTransient;
        errors_[i] = RdKafka::err2str(err);
      }
    }
    // Wait for the delivery reports of this round: librdkafka retries transient errors
    // itself until message.timeout.ms, then reports them.
    auto warn_at =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.flush_timeout_ms);
    while (
        std::any_of(todo.begin(), todo.end(), [&](size_t i) { return status_[i] == kPending; })) {
      if (stop.load()) throw DeliveryInterrupted("stop requested while outputs were in flight");
      producer_->flush(100);
      if (std::chrono::steady_clock::now() > warn_at) {
        log_.Warn("outputs still in flight",
                  {{"in_flight", std::to_string(producer_->outq_len())}});
        warn_at += std::chrono::milliseconds(options_.flush_timeout_ms);
      }
    }
    std::vector<size_t> next;
    for (size_t i : todo) {
      switch (status_[i]) {
        case kDelivered:
          ++stats_.delivered;
          // A decision's latency ends here, at its acknowledgement (a dead letter that
          // replaced one carries no arrival: it is not a decision delivered).
          if (options_.probe != nullptr && batch[i].source_arrival_us > 0 &&
              batch[i].kind != OutputMessage::Kind::kOther) {
            options_.probe->DecisionDelivered(
                batch[i].kind == OutputMessage::Kind::kTrigger,
                static_cast<double>(delivered_us_[i] - batch[i].source_arrival_us) / 1e6);
          }
          break;
        case kPermanent:
          if (is_replacement[i] || batch[i].topic == options_.dead_letter_topic) {
            ++stats_.dead_letters_failed;
            log_.Error("dead letter not deliverable; dropped",
                       {{"topic", batch[i].topic}, {"error", errors_[i]}});
            break;
          }
          ++stats_.undeliverable;
          log_.Error("output not deliverable; sent to the dead-letter topic instead",
                     {{"topic", batch[i].topic},
                      {"bytes", std::to_string(batch[i].value.size())},
                      {"error", errors_[i]}});
          batch[i] = UndeliverableDeadLetter(batch[i], errors_[i]);
          is_replacement[i] = true;
          next.push_back(i);
          break;
        default:  // a transient failure reported after librdkafka's retries: again
          ++stats_.retried;
          next.push_back(i);
          break;
      }
    }
    if (!next.empty() &&
        std::all_of(next.begin(), next.end(), [&](size_t i) { return status_[i] != kPermanent; })) {
      log_.Warn("outputs not delivered yet; retrying",
                {{"pending", std::to_string(next.size())},
                 {"error",
                  errors_[next.front()].empty() ? "delivery timed out" : errors_[next.front()]}});
      // Back off before producing again (the broker may be down); stay responsive.
      for (int waited = 0; waited < backoff_ms; waited += 50) {
        if (stop.load()) throw DeliveryInterrupted("stop requested while retrying outputs");
        producer_->poll(50);
      }
      backoff_ms = std::min(backoff_ms * 2, 5000);
    }
    todo.swap(next);
  }
  status_.clear();
  errors_.clear();
  delivered_us_.clear();
}

}  // namespace intentstream::runtime
