#include "decide/posteriors.h"

namespace intentstream::decide {

int64_t PosteriorTable::Bucket(int64_t t_ms) const {
  // Floor division: event times before 1970 still land in a bucket of their own.
  return t_ms >= 0 ? t_ms / bucket_ms_ : -((-t_ms + bucket_ms_ - 1) / bucket_ms_);
}

BetaCounts PosteriorTable::AsOf(const std::string& offer, const std::string& segment,
                                int64_t t_ms) const {
  const auto it = arms_.find({offer, segment});
  if (it == arms_.end()) return {};
  const int64_t b = Bucket(t_ms);
  BetaCounts c = it->second.total;
  for (const auto& [bucket, counts] : it->second.recent) {
    if (bucket >= b) break;
    c.impressions += counts.impressions;
    c.clicks += counts.clicks;
  }
  return c;
}

void PosteriorTable::Add(const std::string& offer, const std::string& segment, int64_t t_ms,
                         double impressions, double clicks) {
  Arm& arm = arms_[{offer, segment}];
  const int64_t b = Bucket(t_ms);
  auto& recent = arm.recent;
  if (!recent.empty() && b < recent.begin()->first &&
      static_cast<int>(recent.size()) >= kept_buckets_) {
    // Older than every kept bucket: straight into the totals.
    arm.total.impressions += impressions;
    arm.total.clicks += clicks;
  } else {
    auto& c = recent[b];
    c.impressions += impressions;
    c.clicks += clicks;
    while (static_cast<int>(recent.size()) > kept_buckets_) {
      arm.total.impressions += recent.begin()->second.impressions;
      arm.total.clicks += recent.begin()->second.clicks;
      recent.erase(recent.begin());
    }
  }
  dirty_ = true;
}

std::string PosteriorTable::Serialize() {
  v1::TaskPosteriors p;
  p.set_bucket_ms(bucket_ms_);
  for (const auto& [key, arm] : arms_) {
    auto* a = p.add_arms();
    a->set_offer_id(key.first);
    a->set_segment(key.second);
    a->set_impressions(arm.total.impressions);
    a->set_clicks(arm.total.clicks);
    for (const auto& [bucket, c] : arm.recent) {
      auto* r = a->add_recent();
      r->set_bucket(bucket);
      r->set_impressions(c.impressions);
      r->set_clicks(c.clicks);
    }
  }
  dirty_ = false;
  return p.SerializeAsString();
}

bool PosteriorTable::Parse(const std::string& bytes) {
  v1::TaskPosteriors p;
  if (!p.ParseFromString(bytes)) return false;
  arms_.clear();
  const bool same_buckets = p.bucket_ms() == bucket_ms_;
  for (const auto& a : p.arms()) {
    Arm& arm = arms_[{a.offer_id(), a.segment()}];
    arm.total = {a.impressions(), a.clicks()};
    for (const auto& r : a.recent()) {
      if (same_buckets) {
        arm.recent[r.bucket()] = {r.impressions(), r.clicks()};
      } else {  // the bucket length changed: keep the counts, fold them
        arm.total.impressions += r.impressions();
        arm.total.clicks += r.clicks();
      }
    }
  }
  dirty_ = false;
  return true;
}

}  // namespace intentstream::decide
