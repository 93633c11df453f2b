#include "eval/login_features.h"

#include <span>

namespace intentstream::eval {

LoginFeatureBuilder::LoginFeatureBuilder(std::shared_ptr<const catalog::Catalog> catalog)
    : catalog_(std::move(catalog)),
      matcher_(std::make_shared<decide::IntentMatcher>(catalog_)),
      features_(matcher_),
      rules_(matcher_) {}

std::vector<std::string> LoginFeatureBuilder::names() const {
  std::vector<std::string> out = features_.profile_names();
  out.insert(out.end(), features_.session_names().begin(), features_.session_names().end());
  return out;
}

void LoginFeatureBuilder::Build(const DecisionPoint& point, const v1::VisitorState& state,
                                std::vector<float>* out) const {
  out->assign(size(), 0.0f);
  const size_t p = features_.profile_size();
  features_.Profile(decide::FactsOf(point.profile, *catalog_), std::span<float>(out->data(), p));
  features_.Session(state, point.time_ms, std::span<float>(out->data() + p, out->size() - p));
}

LoginFeatures LoginFeatureBuilder::Build(const DecisionPoint& point) const {
  LoginFeatures f;
  Build(point, *point.app_only, &f.app);
  Build(point, *point.state, &f.web);
  return f;
}

void LoginFeatureBuilder::IntentScores(const DecisionPoint& point, std::vector<float>* out) const {
  out->assign(catalog_->intents().size(), 0.0f);
  const auto& events = point.state->events();
  rules_.Score(
      std::span<const v1::SessionEvent* const>(events.data(), static_cast<size_t>(events.size())),
      point.time_ms, *out);
}

}  // namespace intentstream::eval
