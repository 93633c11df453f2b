#include "intent_head_labeller.h"

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "model/intent_head.h"
#include "model/model.h"

namespace intentstream::evaluate {

namespace {

using Clock = std::chrono::steady_clock;

class HeadLabeller final : public eval::WindowLabeller {
 public:
  HeadLabeller(std::shared_ptr<model::SessionModel> encoder,
               std::shared_ptr<model::IntentHead> head,
               std::shared_ptr<const catalog::Catalog> catalog)
      : encoder_(std::move(encoder)), head_(std::move(head)), catalog_(std::move(catalog)) {
    for (const auto& id : head_->intents()) to_catalog_.push_back(catalog_->FindIntent(id));
  }
  std::string name() const override { return "intent head (" + head_->version() + ")"; }

  void Label(std::span<const eval::Window> windows, std::span<const int64_t>,
             std::vector<std::vector<int>>* labels) override {
    labels->assign(windows.size(), {});
    const size_t k = head_->intents().size();
    const size_t d = head_->embedding_dim();
    std::vector<float> p(k);
    constexpr size_t kBatch = 256;
    for (size_t b = 0; b < windows.size(); b += kBatch) {
      const size_t n = std::min(kBatch, windows.size() - b);
      const auto t0 = Clock::now();
      const auto embeddings = encoder_->EncodeFullBatch(windows.subspan(b, n));
      const auto t1 = Clock::now();
      for (size_t i = 0; i < n; ++i) {
        if (embeddings[i].size() != d) {
          // An empty window: no embedding, so the default label.
          const int fallback = catalog_->default_intent();
          if (fallback >= 0) (*labels)[b + i] = {fallback};
          continue;
        }
        head_->Score(embeddings[i], 1, p);
        for (int j : head_->Labels(p)) {
          const int c = to_catalog_[static_cast<size_t>(j)];
          if (c >= 0) (*labels)[b + i].push_back(c);
        }
      }
      encode_us_ += std::chrono::duration<double, std::micro>(t1 - t0).count();
      head_us_ += std::chrono::duration<double, std::micro>(Clock::now() - t1).count();
      windows_ += n;
    }
  }

  std::string Note() const override {
    if (windows_ == 0) return "";
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "per session %.1f us = full re-encode of the window %.1f us (batched 256) + "
                  "head %.2f us; serving updates the embedding incrementally instead",
                  (encode_us_ + head_us_) / static_cast<double>(windows_),
                  encode_us_ / static_cast<double>(windows_),
                  head_us_ / static_cast<double>(windows_));
    return buf;
  }

 private:
  std::shared_ptr<model::SessionModel> encoder_;
  std::shared_ptr<model::IntentHead> head_;
  std::shared_ptr<const catalog::Catalog> catalog_;
  std::vector<int> to_catalog_;
  double encode_us_ = 0, head_us_ = 0;
  size_t windows_ = 0;
};

}  // namespace

std::unique_ptr<eval::WindowLabeller> MakeIntentHeadLabeller(
    const std::string& encoder_dir, const std::string& head_dir,
    std::shared_ptr<const catalog::Catalog> catalog) {
  auto encoder = model::SessionModel::Load(encoder_dir);
  auto head = model::IntentHead::Load(head_dir);
  if (head->config().encoder_version != encoder->version()) {
    throw std::runtime_error("--intent-head: " + head_dir + " was trained on encoder " +
                             head->config().encoder_version + ", but " + encoder_dir + " is " +
                             encoder->version() +
                             " (retrain it with intentstream-distill, docs/intents.md)");
  }
  return std::make_unique<HeadLabeller>(std::move(encoder), std::move(head), std::move(catalog));
}

}  // namespace intentstream::evaluate
