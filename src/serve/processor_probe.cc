#include "serve/processor_probe.h"

#include "ingest/dead_letter.h"

namespace intentstream::serve {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

ProcessorProbe::ProcessorProbe(prometheus::Registry& registry, const InputTopicNames& topics,
                               const std::vector<std::string>& output_topics,
                               const std::string& version) {
  input_family_ = &BuildCounter()
                       .Name("intentstream_input_messages_total")
                       .Help(
                           "Input messages by topic and outcome (accepted, duplicate, "
                           "dead_letter)")
                       .Register(registry);
  for (size_t k = 0; k < kTopicKinds; ++k) {
    const auto& topic = topics.by_kind[k];
    accepted_[k] = &input_family_->Add({{"topic", topic}, {"outcome", "accepted"}});
    duplicate_[k] = &input_family_->Add({{"topic", topic}, {"outcome", "duplicate"}});
    dead_lettered_[k] = &input_family_->Add({{"topic", topic}, {"outcome", "dead_letter"}});
  }
  auto& reasons = BuildCounter()
                      .Name("intentstream_dead_letters_total")
                      .Help("Messages sent to the dead-letter topic, by reason")
                      .Register(registry);
  for (size_t r = 0; r < kDeadLetterReasons; ++r) {
    dead_letter_reasons_[r] = &reasons.Add(
        {{"reason",
          std::string(ingest::DeadLetterReasonLabel(static_cast<v1::DeadLetterReason>(r)))}});
  }
  handoffs_sent_ = &BuildCounter()
                        .Name("intentstream_identity_handoffs_sent_total")
                        .Help("Identity hand-offs produced to the hand-off topic")
                        .Register(registry)
                        .Add({});
  handoffs_merged_ = &BuildCounter()
                          .Name("intentstream_identity_handoffs_merged_total")
                          .Help("Identity hand-offs merged into a customer's state")
                          .Register(registry)
                          .Add({});
  handoff_events_merged_ = &BuildCounter()
                                .Name("intentstream_identity_handoff_events_merged_total")
                                .Help("Pre-login web events merged into customers' sessions")
                                .Register(registry)
                                .Add({});
  auto& outputs = BuildCounter()
                      .Name("intentstream_output_messages_total")
                      .Help(
                          "Messages produced to output topics (dead letters, hand-offs, "
                          "decisions, triggers)")
                      .Register(registry);
  for (const auto& topic : output_topics) outputs_.push_back(&outputs.Add({{"topic", topic}}));
  auto& stages = BuildHistogram()
                     .Name("intentstream_stage_seconds")
                     .Help("Time per poll batch spent in each stage")
                     .Register(registry);
  const char* stage_names[] = {"decode", "state", "model", "operator", "produce", "commit"};
  for (size_t i = 0; i < stages_.size(); ++i) {
    stages_[i] = &stages.Add(
        {{"stage", stage_names[i]}},
        prometheus::Histogram::BucketBoundaries{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
  }
  auto& cache = BuildCounter()
                    .Name("intentstream_visitor_cache_requests_total")
                    .Help("Visitor state lookups served from memory (hit) or RocksDB (miss)")
                    .Register(registry);
  cache_hits_ = &cache.Add({{"result", "hit"}});
  cache_misses_ = &cache.Add({{"result", "miss"}});
  event_lag_ = &BuildHistogram()
                    .Name("intentstream_event_lag_seconds")
                    .Help("Per event: Kafka message timestamp to its state commit (end to end)")
                    .Register(registry)
                    .Add({}, prometheus::Histogram::BucketBoundaries{
                                 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
  model_cache_ = &BuildCounter()
                      .Name("intentstream_model_cache_requests_total")
                      .Help(
                          "Session encoder cache lookups: hit (cached keys/values reused) or "
                          "miss (rebuilt from the stored events)")
                      .Register(registry);
  model_hits_ = &model_cache_->Add({{"result", "hit"}});
  model_misses_ = &model_cache_->Add({{"result", "miss"}});
  model_info_ = &BuildGauge()
                     .Name("intentstream_model_info")
                     .Help("Session encoder in use; the value is always 1")
                     .Register(registry);
  ready_ = &BuildGauge()
                .Name("intentstream_ready")
                .Help("1 while partitions are assigned and the processor serves them")
                .Register(registry)
                .Add({});
  commits_ = &BuildCounter()
                  .Name("intentstream_state_commits_total")
                  .Help("Atomic state + offset commits")
                  .Register(registry)
                  .Add({});
  batch_size_ = &BuildHistogram()
                     .Name("intentstream_batch_messages")
                     .Help("Input messages per committed batch")
                     .Register(registry)
                     .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 100, 500, 1000, 5000});
  commit_seconds_ = &BuildHistogram()
                         .Name("intentstream_state_commit_seconds")
                         .Help("Time to commit one batch's WriteBatch to RocksDB")
                         .Register(registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.0005, 0.001,
                                                                          0.005, 0.01, 0.05, 0.1});
  latency_ =
      &BuildHistogram()
           .Name("intentstream_processing_latency_seconds")
           .Help("Per event: arrival in the processor to its state commit")
           .Register(registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                            0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  auto& decision_latency = BuildHistogram()
                               .Name("intentstream_decision_latency_seconds")
                               .Help(
                                   "Per decision or trigger: arrival in the processor of the "
                                   "event that made it to its delivery (broker acknowledgement)")
                               .Register(registry);
  decision_latency_ = &decision_latency.Add({{"output", "decision"}}, DecisionLatencyBuckets());
  trigger_latency_ = &decision_latency.Add({{"output", "trigger"}}, DecisionLatencyBuckets());
  lag_family_ = &BuildGauge()
                     .Name("intentstream_consumer_lag_messages")
                     .Help(
                         "High watermark minus the next offset to process, per assigned "
                         "partition")
                     .Register(registry);
  assigned_ = &BuildGauge()
                   .Name("intentstream_assigned_partitions")
                   .Help("Input partitions currently assigned to this process")
                   .Register(registry)
                   .Add({});
  auto gauge = [&](const char* name, const char* help) {
    return &BuildGauge().Name(name).Help(help).Register(registry).Add({});
  };
  live_bytes_ = gauge("intentstream_state_live_data_bytes", "RocksDB estimated live data size");
  sst_bytes_ = gauge("intentstream_state_sst_bytes", "RocksDB total SST file size");
  memtable_bytes_ = gauge("intentstream_state_memtable_bytes", "RocksDB memtable size");
  sessions_ = gauge("intentstream_state_sessions", "Estimated visitors in the sessions family");
  pending_compaction_bytes_ = gauge("intentstream_state_pending_compaction_bytes",
                                    "RocksDB estimated bytes pending compaction");
  write_stopped_ = gauge("intentstream_state_write_stopped", "1 while RocksDB stops writes");
  task_stream_time_ = &BuildGauge()
                           .Name("intentstream_task_stream_time_seconds")
                           .Help(
                               "Event time of the newest record applied, per task and side "
                               "(anonymous: web events and links; customer: app events, "
                               "profiles and hand-offs), Unix seconds")
                           .Register(registry);
  task_skew_ = &BuildGauge()
                    .Name("intentstream_task_head_skew_seconds")
                    .Help("Event-time spread between the buffered heads of a task's partitions")
                    .Register(registry);
  task_buffered_ = &BuildGauge()
                        .Name("intentstream_task_buffered_records")
                        .Help("Records buffered for event-time ordering, per task")
                        .Register(registry);
  restore_restored_ = &BuildGauge()
                           .Name("intentstream_restore_restored_records")
                           .Help(
                               "Changelog records applied by the current or last restore, "
                               "per task (state.changelog)")
                           .Register(registry);
  restore_remaining_ = &BuildGauge()
                            .Name("intentstream_restore_remaining_records")
                            .Help(
                                "Changelog records still to apply before the task is ready, "
                                "per task (0 when restored)")
                            .Register(registry);
  standby_tasks_ = &BuildGauge()
                        .Name("intentstream_standby_tasks")
                        .Help("Tasks whose changelogs this process follows as a standby")
                        .Register(registry)
                        .Add({});
  standby_applied_ = &BuildCounter()
                          .Name("intentstream_standby_applied_records_total")
                          .Help("Changelog records a standby applied to local state")
                          .Register(registry)
                          .Add({});
  standby_lag_family_ = &BuildGauge()
                             .Name("intentstream_standby_lag_records")
                             .Help(
                                 "Changelog records a standby task was behind at its last "
                                 "catch-up (state.standby_interval_ms)")
                             .Register(registry);
  changelog_records_ = &BuildCounter()
                            .Name("intentstream_changelog_records_total")
                            .Help("State writes delivered to the changelog topics")
                            .Register(registry)
                            .Add({});
  auto& waits = BuildCounter()
                    .Name("intentstream_task_idle_waits_total")
                    .Help(
                        "Times a task waited for a partition that may hold older records or "
                        "for hand-off watermarks (outcome=enforced: the wait ran out, "
                        "processing.max_task_idle_ms)")
                    .Register(registry);
  idle_waits_ = &waits.Add({{"outcome", "waited"}});
  enforced_ = &waits.Add({{"outcome", "enforced"}});
  late_ = &BuildHistogram()
               .Name("intentstream_late_events_lateness_seconds")
               .Help("Records older than their task's stream time, by how much (event time)")
               .Register(registry)
               .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.01, 0.1, 1, 10, 60, 600,
                                                                3600, 86400, 604800});
  auto& delivery = BuildCounter()
                       .Name("intentstream_output_delivery_failures_total")
                       .Help(
                           "Output delivery problems: retried (transient), undeliverable "
                           "(replaced by a dead letter), dead_letter_failed (dropped, logged)")
                       .Register(registry);
  retried_ = &delivery.Add({{"outcome", "retried"}});
  undeliverable_ = &delivery.Add({{"outcome", "undeliverable"}});
  dead_letters_failed_ = &delivery.Add({{"outcome", "dead_letter_failed"}});
  BuildGauge()
      .Name("intentstream_build_info")
      .Help("Build information; the value is always 1")
      .Register(registry)
      .Add({{"version", version}})
      .Set(1);
}

prometheus::Histogram::BucketBoundaries ProcessorProbe::DecisionLatencyBuckets() {
  prometheus::Histogram::BucketBoundaries bounds;
  for (double b = 100e-6; b < 12.5; b *= 1.25) bounds.push_back(b);
  return bounds;
}

void ProcessorProbe::PartitionAssigned(const TopicPartition& tp) {
  std::lock_guard lock(lag_mu_);
  if (lag_.count(tp) != 0) return;
  lag_[tp] =
      &lag_family_->Add({{"topic", tp.topic}, {"partition", std::to_string(tp.partition.value)}});
  assigned_->Increment();
}

void ProcessorProbe::PartitionRevoked(const TopicPartition& tp) {
  std::lock_guard lock(lag_mu_);
  auto it = lag_.find(tp);
  if (it == lag_.end()) return;
  lag_family_->Remove(it->second);
  lag_.erase(it);
  assigned_->Decrement();
}

void ProcessorProbe::ConsumerLag(const TopicPartition& tp, int64_t lag) {
  std::lock_guard lock(lag_mu_);
  auto it = lag_.find(tp);
  if (it != lag_.end()) it->second->Set(static_cast<double>(lag));
}

namespace {
void Add(prometheus::Counter* c, uint64_t n) {
  if (n > 0) c->Increment(static_cast<double>(n));
}
}  // namespace

void ProcessorProbe::AddModelCache(uint64_t hits, uint64_t misses) {
  Add(model_hits_, hits);
  Add(model_misses_, misses);
}

void ProcessorProbe::SetTaskCount(int32_t tasks) {
  for (auto t = static_cast<int32_t>(tasks_.size()); t < tasks; ++t) {
    const std::string id = std::to_string(t);
    tasks_.push_back({&task_stream_time_->Add({{"task", id}, {"side", "anonymous"}}),
                      &task_stream_time_->Add({{"task", id}, {"side", "customer"}}),
                      &task_skew_->Add({{"task", id}}), &task_buffered_->Add({{"task", id}})});
    restores_.push_back(
        {&restore_restored_->Add({{"task", id}}), &restore_remaining_->Add({{"task", id}})});
    standby_lag_.push_back(&standby_lag_family_->Add({{"task", id}}));
  }
}

void ProcessorProbe::Task(int32_t task, const TaskGauges& f) {
  if (task < 0 || static_cast<size_t>(task) >= tasks_.size()) return;
  const auto& s = tasks_[static_cast<size_t>(task)];
  if (f.anonymous_stream_time_s > 0) s.anonymous->Set(f.anonymous_stream_time_s);
  if (f.customer_stream_time_s > 0) s.customer->Set(f.customer_stream_time_s);
  s.skew->Set(f.head_skew_s);
  s.buffered->Set(f.buffered);
}

void ProcessorProbe::Restore(int32_t task, uint64_t restored, uint64_t remaining) {
  if (task < 0 || static_cast<size_t>(task) >= restores_.size()) return;
  restores_[static_cast<size_t>(task)].first->Set(static_cast<double>(restored));
  restores_[static_cast<size_t>(task)].second->Set(static_cast<double>(remaining));
}

void ProcessorProbe::AddChangelogRecords(uint64_t records) {
  Add(changelog_records_, records);
}

void ProcessorProbe::StandbyTasks(size_t tasks) {
  standby_tasks_->Set(static_cast<double>(tasks));
}

void ProcessorProbe::Standby(int32_t task, uint64_t behind) {
  Add(standby_applied_, behind);
  if (task < 0 || static_cast<size_t>(task) >= standby_lag_.size()) return;
  standby_lag_[static_cast<size_t>(task)]->Set(static_cast<double>(behind));
}

void ProcessorProbe::StandbyDropped(int32_t task) {
  if (task < 0 || static_cast<size_t>(task) >= standby_lag_.size()) return;
  standby_lag_[static_cast<size_t>(task)]->Set(0);
}

void ProcessorProbe::AddScheduler(uint64_t idle_waits, uint64_t enforced) {
  Add(idle_waits_, idle_waits);
  Add(enforced_, enforced);
}

void ProcessorProbe::AddDelivery(uint64_t retried, uint64_t undeliverable,
                                 uint64_t dead_letters_failed) {
  Add(retried_, retried);
  Add(undeliverable_, undeliverable);
  Add(dead_letters_failed_, dead_letters_failed);
}

void ProcessorProbe::ModelVersion(const std::string& version) {
  model_info_->Add({{"model_version", version}}).Set(1);
}

void ProcessorProbe::State(const StateFigures& f) {
  live_bytes_->Set(f.live_bytes);
  sst_bytes_->Set(f.sst_bytes);
  memtable_bytes_->Set(f.memtable_bytes);
  sessions_->Set(f.sessions);
  pending_compaction_bytes_->Set(f.pending_compaction_bytes);
  write_stopped_->Set(f.write_stopped);
}

}  // namespace intentstream::serve
