#include "decide/features.h"

#include <algorithm>
#include <cmath>

namespace intentstream::decide {

namespace {

constexpr double kHalfLifeMs = 7.0 * 86'400'000;
constexpr int kAgeBands = 6, kIncomeBands = 5, kRiskLevels = 3;

// Session feature layout: per intent 4 blocks, then activity counts.
enum Activity : size_t {
  kWebEvents,
  kAppEvents,
  kSessions,
  kMergedShare,
  kForms,
  kCalculators,
  kDownloads,
  kApplications,
  kServicing,
  kRecency,
  kActivityCount
};
constexpr const char* kActivityNames[] = {
    "log_web_events",  "log_app_events", "log_sessions",     "merged_web_share", "log_forms",
    "log_calculators", "log_downloads",  "log_applications", "log_servicing",    "recency"};

}  // namespace

ProfileFacts FactsOf(const v1::CustomerProfile* p, const catalog::Catalog& catalog) {
  ProfileFacts f;
  f.holds.assign(catalog.products().size(), 0);
  if (p == nullptr) return f;
  f.known = true;
  f.age_band = p->age_band();
  f.income_band = p->income_band();
  f.risk_appetite = p->risk_appetite();
  f.tenure_months = p->tenure_months();
  f.credit_grade = p->credit_grade();
  f.marketing_consent = p->marketing_consent();
  for (const auto& code : p->products_held()) {
    const int i = catalog.FindProduct(code);
    if (i >= 0) f.holds[static_cast<size_t>(i)] = 1;
  }
  return f;
}

FeatureBuilder::FeatureBuilder(std::shared_ptr<const IntentMatcher> matcher)
    : matcher_(std::move(matcher)) {
  auto& p = profile_names_;
  p.push_back("profile_known");
  for (int i = 1; i <= kAgeBands; ++i) {
    p.push_back("age_band=" + v1::AgeBand_Name(static_cast<v1::AgeBand>(i)));
  }
  for (int i = 1; i <= kIncomeBands; ++i) {
    p.push_back("income_band=" + v1::IncomeBand_Name(static_cast<v1::IncomeBand>(i)));
  }
  for (int i = 1; i <= kRiskLevels; ++i) {
    p.push_back("risk_appetite=" + v1::RiskAppetite_Name(static_cast<v1::RiskAppetite>(i)));
  }
  p.insert(p.end(), {"credit_grade_known", "credit_grade_scaled", "credit_grade<=3",
                     "credit_grade>=7", "tenure_years_log", "marketing_consent"});
  for (const auto& product : matcher_->catalog().products()) p.push_back("holds=" + product.code);
  auto& s = session_names_;
  for (const char* block : {"web", "app", "click", "dismiss"}) {
    for (const auto& in : matcher_->catalog().intents()) {
      s.push_back(std::string(block) + "_evidence=" + in.id);
    }
  }
  for (const char* name : kActivityNames) s.push_back(name);
}

void FeatureBuilder::Profile(const ProfileFacts& f, std::span<float> out) const {
  std::fill(out.begin(), out.end(), 0.0f);
  size_t k = 0;
  out[k++] = f.known ? 1.0f : 0.0f;
  if (f.age_band >= 1 && f.age_band <= kAgeBands) out[k + static_cast<size_t>(f.age_band - 1)] = 1;
  k += kAgeBands;
  if (f.income_band >= 1 && f.income_band <= kIncomeBands) {
    out[k + static_cast<size_t>(f.income_band - 1)] = 1;
  }
  k += kIncomeBands;
  if (f.risk_appetite >= 1 && f.risk_appetite <= kRiskLevels) {
    out[k + static_cast<size_t>(f.risk_appetite - 1)] = 1;
  }
  k += kRiskLevels;
  const bool grade = f.credit_grade >= 1 && f.credit_grade <= 10;
  out[k++] = grade ? 1.0f : 0.0f;
  out[k++] = grade ? (static_cast<float>(f.credit_grade) - 5.5f) / 2.9f : 0.0f;
  out[k++] = grade && f.credit_grade <= 3 ? 1.0f : 0.0f;
  out[k++] = grade && f.credit_grade >= 7 ? 1.0f : 0.0f;
  out[k++] = f.known ? static_cast<float>(std::log1p(f.tenure_months / 12.0) - 1.5) : 0.0f;
  out[k++] = f.marketing_consent ? 1.0f : 0.0f;
  for (size_t i = 0; i < f.holds.size() && k < out.size(); ++i) out[k++] = f.holds[i] ? 1.0f : 0.0f;
}

void FeatureBuilder::Session(const v1::VisitorState& state, int64_t as_of_ms,
                             std::span<float> out) const {
  std::fill(out.begin(), out.end(), 0.0f);
  const size_t n = matcher_->catalog().intents().size();
  const size_t activity = 4 * n;
  double counts[kActivityCount] = {};
  double last_evidence_ms = -1;
  std::vector<IntentVote> votes;
  const double ln2 = std::log(2.0);
  for (const auto& e : state.events()) {
    if (e.time_ms() > as_of_ms) continue;
    const double decay = std::exp(-ln2 * static_cast<double>(as_of_ms - e.time_ms()) / kHalfLifeMs);
    const bool web = e.source() == v1::SOURCE_WEB;
    ++counts[web ? kWebEvents : kAppEvents];
    size_t block = web ? 0 : 1;
    if (!web) {
      switch (static_cast<v1::AppAction>(e.event_type())) {
        case v1::APP_ACTION_TILE_CLICK:
          block = 2;
          break;
        case v1::APP_ACTION_TILE_DISMISS:
          block = 3;
          break;
        case v1::APP_ACTION_APPLICATION_START:
          ++counts[kApplications];
          break;
        case v1::APP_ACTION_BALANCE_CHECK:
        case v1::APP_ACTION_TRANSFER:
        case v1::APP_ACTION_PAYMENT:
          ++counts[kServicing];
          break;
        default:
          break;
      }
    } else {
      switch (static_cast<v1::WebEventType>(e.event_type())) {
        case v1::WEB_EVENT_TYPE_FORM_START:
        case v1::WEB_EVENT_TYPE_FORM_SUBMIT:
          ++counts[kForms];
          break;
        case v1::WEB_EVENT_TYPE_CALCULATOR_USE:
          ++counts[kCalculators];
          break;
        case v1::WEB_EVENT_TYPE_DOWNLOAD:
          ++counts[kDownloads];
          break;
        default:
          break;
      }
    }
    votes.clear();
    if (block == 3) {
      // A dismissal is evidence against the offer's intents: counted on its own.
      v1::SessionEvent as_click = e;
      as_click.set_event_type(v1::APP_ACTION_TILE_CLICK);
      matcher_->Votes(as_click, &votes);
    } else {
      matcher_->Votes(e, &votes);
    }
    for (const auto& v : votes) {
      out[block * n + static_cast<size_t>(v.intent)] += static_cast<float>(v.weight * decay);
    }
    if (!votes.empty() && block != 3) {
      last_evidence_ms = std::max(last_evidence_ms, static_cast<double>(e.time_ms()));
    }
  }
  for (size_t i = 0; i < 4 * n; ++i) out[i] = static_cast<float>(std::log1p(out[i]));
  counts[kSessions] = state.session_count();
  const double own = static_cast<double>(state.events_size());
  counts[kMergedShare] =
      own > 0 ? std::min(1.0, static_cast<double>(state.merged_web_events()) / own) : 0;
  for (size_t a = 0; a < kActivityCount; ++a) {
    double v = counts[a];
    if (a == kRecency) {
      v = last_evidence_ms < 0
              ? 0
              : std::exp(-(static_cast<double>(as_of_ms) - last_evidence_ms) / (3.0 * 86'400'000));
    } else if (a != kMergedShare) {
      v = std::log1p(v);
    }
    out[activity + a] = static_cast<float>(v);
  }
}

}  // namespace intentstream::decide
