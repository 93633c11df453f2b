#include "runtime/event_time_scheduler.h"

#include <algorithm>
#include <limits>

namespace intentstream::runtime {

namespace {

bool CustomerSide(ingest::TopicKind kind) {
  return kind == ingest::TopicKind::kApp || kind == ingest::TopicKind::kProfile ||
         kind == ingest::TopicKind::kHandoff;
}

// Among equal event times: a profile or hand-off before the app event it informs; a web
// event before the link that carries it over.
int RankOf(ingest::TopicKind kind) {
  switch (kind) {
    case ingest::TopicKind::kProfile:
      return 0;
    case ingest::TopicKind::kHandoff:
      return 1;
    case ingest::TopicKind::kApp:
      return 2;
    case ingest::TopicKind::kWeb:
      return 0;
    case ingest::TopicKind::kLink:
      return 1;
  }
  return 3;
}

}  // namespace

void EventTimeScheduler::Queue::Push(RecordPtr r) {
  if (!sorted) {
    fifo_.push_back(std::move(r));
    return;
  }
  const int64_t offset = r->message.offset.value;
  offsets_.insert(offset);
  by_time_.emplace(std::make_pair(r->time_ms, offset), std::move(r));
}

EventTimeScheduler::RecordPtr EventTimeScheduler::Queue::Pop() {
  RecordPtr r;
  if (!sorted) {
    r = std::move(fifo_.front());
    fifo_.pop_front();
  } else {
    r = std::move(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
    offsets_.erase(offsets_.find(r->message.offset.value));
  }
  released_max_offset = std::max(released_max_offset, r->message.offset.value);
  return r;
}

std::vector<EventTimeScheduler::RecordPtr> EventTimeScheduler::Queue::TakeAll() {
  std::vector<RecordPtr> out;
  for (auto& r : fifo_) out.push_back(std::move(r));
  for (auto& [k, r] : by_time_) out.push_back(std::move(r));
  fifo_.clear();
  by_time_.clear();
  offsets_.clear();
  return out;
}

int64_t EventTimeScheduler::Queue::SafeNextOffset() const {
  const int64_t after_released = released_max_offset + 1;
  if (!sorted || offsets_.empty()) return after_released;
  return std::min(*offsets_.begin(), after_released);
}

EventTimeScheduler::EventTimeScheduler(SchedulerOptions options) : options_(options) {}

void EventTimeScheduler::Assign(const TopicPartition& tp, ingest::TopicKind kind) {
  auto& slot = queues_[tp];
  if (slot) return;
  slot = std::make_unique<Queue>();
  slot->tp = tp;
  slot->kind = kind;
  slot->rank = RankOf(kind);
  slot->sorted = kind == ingest::TopicKind::kHandoff;
  Task& task = tasks_[tp.partition.value];
  Side& side = CustomerSide(kind) ? task.customer : task.anonymous;
  side.customer = CustomerSide(kind);
  side.queues.push_back(slot.get());
}

void EventTimeScheduler::Revoke(const TopicPartition& tp) {
  auto it = queues_.find(tp);
  if (it == queues_.end()) return;
  Queue* q = it->second.get();
  buffered_ -= q->size();
  for (auto& r : q->TakeAll()) Recycle(std::move(r));
  for (auto u = unordered_.begin(); u != unordered_.end();) {
    if (u->first == q) {
      Recycle(std::move(u->second));
      u = unordered_.erase(u);
      --buffered_;
    } else {
      ++u;
    }
  }
  auto t = tasks_.find(tp.partition.value);
  if (t != tasks_.end()) {
    for (Side* side : {&t->second.anonymous, &t->second.customer}) {
      side->queues.erase(std::remove(side->queues.begin(), side->queues.end(), q),
                         side->queues.end());
    }
    if (t->second.anonymous.queues.empty() && t->second.customer.queues.empty()) tasks_.erase(t);
  }
  queues_.erase(it);
}

void EventTimeScheduler::Push(RecordPtr record) {
  const TopicPartition tp{std::string(record->message.topic), record->message.partition};
  auto it = queues_.find(tp);
  if (it == queues_.end()) {  // not assigned (any more): drop, it is read again later
    Recycle(std::move(record));
    return;
  }
  Queue& q = *it->second;
  q.at_end = false;
  if (record->watermark) {
    const auto& wm = record->decoded.handoff.watermark();
    RestoreSenderWatermark(tp.partition.value, wm.task(), wm.watermark_ms());
  }
  ++buffered_;
  if (!options_.ordered) {
    unordered_.emplace_back(&q, std::move(record));
  } else {
    q.Push(std::move(record));
  }
  if (options_.ordered && !q.paused && q.size() > options_.pause_above) {
    q.paused = true;
    to_pause_.push_back(q.tp);
  }
}

void EventTimeScheduler::AtEnd(const TopicPartition& tp, int64_t now_ms) {
  if (auto it = queues_.find(tp); it != queues_.end()) {
    if (!it->second->at_end) it->second->at_end_since_ms = now_ms;
    it->second->at_end = true;
  }
}

int64_t EventTimeScheduler::SenderWatermark(int32_t receiver, int32_t sender) const {
  auto r = watermarks_.find(receiver);
  if (r == watermarks_.end()) return InputRecord::kNoTime;
  auto it = r->second.find(sender);
  return it == r->second.end() ? InputRecord::kNoTime : it->second;
}

void EventTimeScheduler::RestoreSenderWatermark(int32_t receiver, int32_t sender,
                                                int64_t watermark_ms) {
  int64_t& w = watermarks_[receiver].try_emplace(sender, InputRecord::kNoTime).first->second;
  w = std::max(w, watermark_ms);
}

int64_t EventTimeScheduler::MinSenderWatermark(int32_t receiver) const {
  if (task_count_ <= 0) return InputRecord::kNoTime;
  int64_t min = std::numeric_limits<int64_t>::max();
  for (int32_t t = 0; t < task_count_; ++t) min = std::min(min, SenderWatermark(receiver, t));
  return min;
}

void EventTimeScheduler::Popped(Queue& q) {
  --buffered_;
  if (q.paused && q.size() < options_.resume_below) {
    q.paused = false;
    to_resume_.push_back(q.tp);
  }
}

void EventTimeScheduler::ReleaseSide(int32_t task, Side& side, int64_t now_ms, size_t max,
                                     std::vector<RecordPtr>* out) {
  const int64_t min_watermark = side.customer ? MinSenderWatermark(task) : 0;
  while (out->size() < max) {
    Queue* best = nullptr;
    for (Queue* q : side.queues) {
      if (q->empty()) continue;
      if (best == nullptr) {
        best = q;
        continue;
      }
      const InputRecord& a = q->head();
      const InputRecord& b = best->head();
      if (a.time_ms != b.time_ms
              ? a.time_ms < b.time_ms
              : (q->rank != best->rank ? q->rank < best->rank : q->tp.topic < best->tp.topic)) {
        best = q;
      }
    }
    if (best == nullptr) return;
    InputRecord& head = best->head();
    if (head.time_ms != InputRecord::kNoTime) {
      bool waiting = false;
      for (const Queue* q : side.queues) {
        waiting = waiting || (q->empty() &&
                              (!q->at_end || now_ms - q->at_end_since_ms < options_.end_wait_ms));
      }
      if (side.customer && task_count_ > 0) waiting = waiting || head.time_ms >= min_watermark;
      if (!waiting) {
        side.enforced = false;
        side.wait_since = -1;
      } else if (!side.enforced) {
        if (side.wait_since < 0) {
          side.wait_since = now_ms;
          ++counters_.idle_waits;
        }
        if (now_ms - side.wait_since < options_.max_task_idle_ms) return;
        side.enforced = true;
        ++counters_.enforced;
      }
      if (side.stream_time != InputRecord::kNoTime && head.time_ms < side.stream_time) {
        ++counters_.late;
        if (on_late_) on_late_(task, side.stream_time - head.time_ms);
      }
      side.stream_time = std::max(side.stream_time, head.time_ms);
    }
    out->push_back(best->Pop());
    Popped(*best);
  }
}

void EventTimeScheduler::Release(int64_t now_ms, size_t max, std::vector<RecordPtr>* out) {
  if (!options_.ordered) {
    while (out->size() < max && !unordered_.empty()) {
      out->push_back(std::move(unordered_.front().second));
      unordered_.pop_front();
      --buffered_;
    }
    return;
  }
  // The anonymous sides first: their watermarks are what the customer sides wait for.
  for (auto& [id, task] : tasks_) ReleaseSide(id, task.anonymous, now_ms, max, out);
  for (auto& [id, task] : tasks_) ReleaseSide(id, task.customer, now_ms, max, out);
}

std::vector<std::pair<int32_t, int64_t>> EventTimeScheduler::AnonymousWatermarks() const {
  std::vector<std::pair<int32_t, int64_t>> out;
  for (const auto& [id, task] : tasks_) {
    const Side& side = task.anonymous;
    if (side.queues.empty()) continue;
    // Every later record of this side has event time >= its stream time (late input
    // aside); when every partition has a head, >= the oldest head.
    int64_t w = side.stream_time;
    bool all_heads = true;
    int64_t min_head = std::numeric_limits<int64_t>::max();
    for (const Queue* q : side.queues) {
      if (q->empty() || q->head().time_ms == InputRecord::kNoTime) {
        all_heads = false;
        break;
      }
      min_head = std::min(min_head, q->head().time_ms);
    }
    if (all_heads) w = std::max(w, min_head);
    if (w != InputRecord::kNoTime) out.emplace_back(id, w);
  }
  return out;
}

std::vector<std::pair<TopicPartition, int64_t>> EventTimeScheduler::SortedPartitionOffsets() const {
  std::vector<std::pair<TopicPartition, int64_t>> out;
  for (const auto& [tp, q] : queues_) {
    if (q->sorted && q->released_max_offset >= 0) out.emplace_back(tp, q->SafeNextOffset());
  }
  return out;
}

bool EventTimeScheduler::Drained() const {
  if (buffered_ > 0) return false;
  for (const auto& [tp, q] : queues_) {
    if (!q->at_end) return false;
  }
  return true;
}

void EventTimeScheduler::TakeFlowChanges(std::vector<TopicPartition>* pause,
                                         std::vector<TopicPartition>* resume) {
  pause->swap(to_pause_);
  resume->swap(to_resume_);
  to_pause_.clear();
  to_resume_.clear();
}

std::vector<TaskFigures> EventTimeScheduler::Figures() const {
  std::vector<TaskFigures> out;
  const auto watermarks = AnonymousWatermarks();
  for (const auto& [id, task] : tasks_) {
    TaskFigures f;
    f.task = id;
    f.anonymous_stream_time_ms = task.anonymous.stream_time;
    f.customer_stream_time_ms = task.customer.stream_time;
    int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
    for (const Side* side : {&task.anonymous, &task.customer}) {
      for (const Queue* q : side->queues) {
        f.buffered += q->size();
        if (q->empty() || q->head().time_ms == InputRecord::kNoTime) continue;
        lo = std::min(lo, q->head().time_ms);
        hi = std::max(hi, q->head().time_ms);
      }
    }
    f.head_skew_ms = hi >= lo ? hi - lo : 0;
    for (const auto& [t, w] : watermarks) {
      if (t == id) f.watermark_ms = w;
    }
    out.push_back(f);
  }
  return out;
}

EventTimeScheduler::RecordPtr EventTimeScheduler::NewRecord() {
  if (pool_.empty()) return std::make_unique<InputRecord>();
  RecordPtr r = std::move(pool_.back());
  pool_.pop_back();
  return r;
}

void EventTimeScheduler::Recycle(RecordPtr record) {
  if (!record) return;
  record->owner.reset();
  record->rejection.reset();
  record->time_ms = InputRecord::kNoTime;
  record->watermark = false;
  record->tombstone = false;
  constexpr size_t kMaxPooled = 16384;
  if (pool_.size() < kMaxPooled) pool_.push_back(std::move(record));
}

}  // namespace intentstream::runtime
