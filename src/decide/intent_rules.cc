#include "decide/intent_rules.h"

#include <algorithm>
#include <cmath>

#include "common/hash.h"
#include "common/text.h"

namespace intentstream::decide {

namespace {

constexpr double kDayMs = 86'400'000.0;

template <typename Map, typename Key>
void AddShare(Map& map, const Key& key, int intent) {
  auto& v = map[key].intents;
  if (std::find(v.begin(), v.end(), intent) == v.end()) v.push_back(intent);
}

bool IsApp(const v1::SessionEvent& e, v1::AppAction action) {
  return e.source() == v1::SOURCE_APP && e.event_type() == static_cast<uint32_t>(action);
}

}  // namespace

std::string_view EvidenceName(Evidence kind) {
  switch (kind) {
    case Evidence::kPageView:
      return "page_view";
    case Evidence::kProductPage:
      return "product_page";
    case Evidence::kEngagement:
      return "engagement";
    case Evidence::kCalculator:
      return "calculator";
    case Evidence::kForm:
      return "form";
    case Evidence::kSearch:
      return "search";
    case Evidence::kScreen:
      return "screen";
    case Evidence::kOfferScreen:
      return "offer_screen";
    case Evidence::kTileClick:
      return "tile_click";
    case Evidence::kApplication:
      return "application";
  }
  return "?";
}

IntentMatcher::IntentMatcher(std::shared_ptr<const catalog::Catalog> catalog)
    : catalog_(std::move(catalog)) {
  const auto& intents = catalog_->intents();
  for (size_t i = 0; i < intents.size(); ++i) {
    const int idx = static_cast<int>(i);
    const auto& in = intents[i];
    for (const auto& page : in.pages) AddPage(CategoryFromPath(page), idx);
    for (const auto& screen : in.screens) AddShare(screens_, screen, idx);
    if (!in.slug.empty()) {
      for (const char* area : {"products/", "offers/", "apply/"}) {
        AddShare(screens_, std::string(area) + in.slug, idx);
      }
    }
    for (const auto& q : in.queries) {
      for (const auto& term : SearchTerms(q)) {
        const uint32_t h = Fnv1a32(term);
        AddShare(terms_, h, idx);
        term_text_.emplace(h, term);
      }
    }
    for (int o : in.offers) {
      const auto& offer = catalog_->offers()[static_cast<size_t>(o)];
      AddShare(products_, offer.id, idx);
      if (offer.product >= 0) {
        AddShare(products_, catalog_->products()[static_cast<size_t>(offer.product)].code, idx);
      }
    }
    for (int p : in.fulfilled_by) {
      AddShare(fulfils_, catalog_->products()[static_cast<size_t>(p)].code, idx);
    }
  }
}

void IntentMatcher::AddPage(std::string_view category, int intent) {
  AddShare(pages_, std::string(category), intent);
}

void IntentMatcher::Lookup(const std::unordered_map<std::string, Share>& map,
                           const std::string& key, float weight, Evidence kind,
                           std::vector<IntentVote>* out) const {
  const auto it = map.find(key);
  if (it == map.end() || it->second.intents.empty()) return;
  const float share = weight / static_cast<float>(it->second.intents.size());
  for (int i : it->second.intents) out->push_back({i, share, kind});
}

float IntentMatcher::TypeWeight(const v1::SessionEvent& e) {
  if (e.source() == v1::SOURCE_WEB) {
    switch (static_cast<v1::WebEventType>(e.event_type())) {
      case v1::WEB_EVENT_TYPE_FORM_START:
      case v1::WEB_EVENT_TYPE_FORM_SUBMIT:
      case v1::WEB_EVENT_TYPE_CALCULATOR_USE:
        return 2.0f;
      case v1::WEB_EVENT_TYPE_DOWNLOAD:
      case v1::WEB_EVENT_TYPE_CHAT_START:
        return 1.5f;
      default:
        return 1.0f;
    }
  }
  switch (static_cast<v1::AppAction>(e.event_type())) {
    case v1::APP_ACTION_TILE_IMPRESSION:
    case v1::APP_ACTION_TILE_DISMISS:
    case v1::APP_ACTION_LOGIN:
      return 0.0f;  // the bank's choice, a "no", or no content at all
    case v1::APP_ACTION_TILE_CLICK:
      return 2.0f;
    case v1::APP_ACTION_APPLICATION_START:
    case v1::APP_ACTION_APPLICATION_COMPLETE:
      return 3.0f;
    default:
      return 1.0f;
  }
}

Evidence IntentMatcher::KindOf(const v1::SessionEvent& e) {
  if (e.source() == v1::SOURCE_WEB) {
    switch (static_cast<v1::WebEventType>(e.event_type())) {
      case v1::WEB_EVENT_TYPE_SEARCH:
        return Evidence::kSearch;
      case v1::WEB_EVENT_TYPE_CLICK:
      case v1::WEB_EVENT_TYPE_DOWNLOAD:
      case v1::WEB_EVENT_TYPE_CHAT_START:
        return Evidence::kEngagement;
      case v1::WEB_EVENT_TYPE_FORM_START:
      case v1::WEB_EVENT_TYPE_FORM_SUBMIT:
        return Evidence::kForm;
      case v1::WEB_EVENT_TYPE_CALCULATOR_USE:
        return Evidence::kCalculator;
      default:
        return e.product().empty() ? Evidence::kPageView : Evidence::kProductPage;
    }
  }
  switch (static_cast<v1::AppAction>(e.event_type())) {
    case v1::APP_ACTION_SEARCH:
      return Evidence::kSearch;
    case v1::APP_ACTION_TILE_CLICK:
      return Evidence::kTileClick;
    case v1::APP_ACTION_APPLICATION_START:
    case v1::APP_ACTION_APPLICATION_COMPLETE:
      return Evidence::kApplication;
    default:
      return e.category().rfind("offers/", 0) == 0 ? Evidence::kOfferScreen : Evidence::kScreen;
  }
}

void IntentMatcher::Votes(const v1::SessionEvent& e, std::vector<IntentVote>* out) const {
  const float w = TypeWeight(e);
  if (w <= 0) return;
  const Evidence kind = KindOf(e);
  if (e.source() == v1::SOURCE_WEB) {
    // The longest listed page prefix of the category.
    std::string key = e.category();
    while (!key.empty()) {
      if (pages_.count(key) != 0) {
        Lookup(pages_, key, w, kind, out);
        break;
      }
      const size_t slash = key.rfind('/');
      if (slash == 0 || slash == std::string::npos) break;
      key.resize(slash);
    }
  } else {
    Lookup(screens_, e.category(), w, kind, out);
  }
  if (!e.product().empty()) Lookup(products_, e.product(), w, kind, out);
  // Search terms: each term votes for the intents whose example queries use it.
  if (e.query_term_hashes_size() > 0) {
    const float per_term = 1.0f / static_cast<float>(e.query_term_hashes_size());
    for (uint32_t h : e.query_term_hashes()) {
      const auto it = terms_.find(h);
      if (it == terms_.end()) continue;
      const float share = per_term / static_cast<float>(it->second.intents.size());
      for (int i : it->second.intents) out->push_back({i, share, Evidence::kSearch});
    }
  }
}

void IntentMatcher::Fulfils(const v1::SessionEvent& e, std::vector<int>* out) const {
  if (!IsApp(e, v1::APP_ACTION_APPLICATION_COMPLETE) || e.product().empty()) return;
  const auto it = fulfils_.find(e.product());
  if (it == fulfils_.end()) return;
  out->insert(out->end(), it->second.intents.begin(), it->second.intents.end());
}

const std::string* IntentMatcher::TermOf(uint32_t hash) const {
  const auto it = term_text_.find(hash);
  return it == term_text_.end() ? nullptr : &it->second;
}

RuleIntentScorer::RuleIntentScorer(std::shared_ptr<const IntentMatcher> matcher,
                                   RuleScorerOptions options)
    : matcher_(std::move(matcher)), options_(options) {
  for (const auto& in : matcher_->catalog().intents()) {
    half_life_ms_.push_back(in.half_life_days * kDayMs);
  }
}

void RuleIntentScorer::Score(std::span<const v1::SessionEvent* const> events, int64_t as_of_ms,
                             std::span<float> out) const {
  std::fill(out.begin(), out.end(), 0.0f);
  const size_t n = std::min(out.size(), half_life_ms_.size());
  std::vector<double> evidence(n, 0.0);
  std::vector<IntentVote> votes;
  std::vector<int> fulfilled;
  const double ln2 = std::log(2.0);
  for (const v1::SessionEvent* e : events) {
    if (e->time_ms() > as_of_ms) continue;
    // A met need starts from nothing: what came before the application no longer counts.
    fulfilled.clear();
    matcher_->Fulfils(*e, &fulfilled);
    if (!fulfilled.empty()) {
      for (int i : fulfilled) {
        if (static_cast<size_t>(i) < n) evidence[static_cast<size_t>(i)] = 0;
      }
      continue;
    }
    votes.clear();
    matcher_->Votes(*e, &votes);
    if (votes.empty()) continue;
    const double age = static_cast<double>(as_of_ms - e->time_ms());
    for (const auto& v : votes) {
      if (v.intent < 0 || static_cast<size_t>(v.intent) >= n) continue;
      const auto i = static_cast<size_t>(v.intent);
      evidence[i] += v.weight * options_.kind_weight[static_cast<size_t>(v.kind)] *
                     std::exp(-ln2 * age / half_life_ms_[i]);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    out[i] = static_cast<float>(1.0 - std::exp(-evidence[i] / options_.scale));
  }
}

IntentLabels RuleIntentScorer::Label(std::span<const float> scores) const {
  const auto& intents = matcher_->catalog().intents();
  const int fallback = matcher_->catalog().default_intent();
  std::vector<std::pair<double, int>> over;
  for (size_t i = 0; i < scores.size() && i < intents.size(); ++i) {
    if (static_cast<int>(i) == fallback) continue;
    const double margin = scores[i] - intents[i].label_threshold;
    if (margin >= 0) over.emplace_back(margin, static_cast<int>(i));
  }
  // Largest margin first; ties: taxonomy order.
  std::sort(over.begin(), over.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  IntentLabels out;
  for (const auto& [margin, i] : over) out.labels.push_back(i);
  if (out.labels.empty() && fallback >= 0) out.labels.push_back(fallback);
  out.top = out.labels.empty() ? -1 : out.labels.front();
  return out;
}

std::vector<const v1::SessionEvent*> RuleIntentScorer::Drivers(
    std::span<const v1::SessionEvent* const> events, int intent, size_t max) const {
  std::vector<const v1::SessionEvent*> out;
  std::vector<IntentVote> votes;
  std::vector<int> fulfilled;
  for (auto it = events.rbegin(); it != events.rend() && out.size() < max; ++it) {
    fulfilled.clear();
    matcher_->Fulfils(**it, &fulfilled);
    if (std::find(fulfilled.begin(), fulfilled.end(), intent) != fulfilled.end()) break;
    votes.clear();
    matcher_->Votes(**it, &votes);
    for (const auto& v : votes) {
      if (v.intent == intent && v.weight * options_.kind_weight[static_cast<size_t>(v.kind)] > 0) {
        out.push_back(*it);
        break;
      }
    }
  }
  return out;
}

}  // namespace intentstream::decide
