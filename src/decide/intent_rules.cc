#include "decide/intent_rules.h"

#include <algorithm>
#include <cmath>

#include "common/hash.h"
#include "common/text.h"

namespace intentstream::decide {

namespace {

template <typename Map, typename Key>
void AddShare(Map& map, const Key& key, int intent) {
  auto& v = map[key].intents;
  if (std::find(v.begin(), v.end(), intent) == v.end()) v.push_back(intent);
}

}  // namespace

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
      for (const auto& term : SearchTerms(q)) AddShare(terms_, Fnv1a32(term), idx);
    }
    for (int o : in.offers) {
      const auto& offer = catalog_->offers()[static_cast<size_t>(o)];
      AddShare(products_, offer.id, idx);
      if (offer.product >= 0) {
        AddShare(products_, catalog_->products()[static_cast<size_t>(offer.product)].code, idx);
      }
    }
  }
}

void IntentMatcher::AddPage(std::string_view category, int intent) {
  AddShare(pages_, std::string(category), intent);
}

void IntentMatcher::Lookup(const std::unordered_map<std::string, Share>& map,
                           const std::string& key, float weight,
                           std::vector<IntentVote>* out) const {
  const auto it = map.find(key);
  if (it == map.end() || it->second.intents.empty()) return;
  const float share = weight / static_cast<float>(it->second.intents.size());
  for (int i : it->second.intents) out->push_back({i, share});
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

void IntentMatcher::Votes(const v1::SessionEvent& e, std::vector<IntentVote>* out) const {
  const float w = TypeWeight(e);
  if (w <= 0) return;
  const size_t before = out->size();
  if (e.source() == v1::SOURCE_WEB) {
    // The longest listed page prefix of the category.
    std::string key = e.category();
    while (!key.empty()) {
      if (pages_.count(key) != 0) {
        Lookup(pages_, key, w, out);
        break;
      }
      const size_t slash = key.rfind('/');
      if (slash == 0 || slash == std::string::npos) break;
      key.resize(slash);
    }
  } else {
    Lookup(screens_, e.category(), w, out);
  }
  if (!e.product().empty()) Lookup(products_, e.product(), w, out);
  // Search terms: each term votes for the intents whose example queries use it.
  if (e.query_term_hashes_size() > 0) {
    const float per_term = 1.0f / static_cast<float>(e.query_term_hashes_size());
    for (uint32_t h : e.query_term_hashes()) {
      const auto it = terms_.find(h);
      if (it == terms_.end()) continue;
      const float share = per_term / static_cast<float>(it->second.intents.size());
      for (int i : it->second.intents) out->push_back({i, share});
    }
  }
  (void)before;
}

RuleIntentScorer::RuleIntentScorer(std::shared_ptr<const IntentMatcher> matcher,
                                   RuleScorerOptions options)
    : matcher_(std::move(matcher)), options_(options) {}

void RuleIntentScorer::Score(std::span<const v1::SessionEvent* const> events, int64_t as_of_ms,
                             std::span<float> out) const {
  std::fill(out.begin(), out.end(), 0.0f);
  std::vector<double> evidence(out.size(), 0.0);
  std::vector<IntentVote> votes;
  const double ln2 = std::log(2.0);
  for (const v1::SessionEvent* e : events) {
    if (e->time_ms() > as_of_ms) continue;
    votes.clear();
    matcher_->Votes(*e, &votes);
    if (votes.empty()) continue;
    const double age = static_cast<double>(as_of_ms - e->time_ms());
    const double decay = std::exp(-ln2 * age / options_.half_life_ms);
    for (const auto& v : votes) {
      if (v.intent >= 0 && static_cast<size_t>(v.intent) < evidence.size()) {
        evidence[static_cast<size_t>(v.intent)] += v.weight * decay;
      }
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<float>(1.0 - std::exp(-evidence[i] / options_.scale));
  }
}

std::vector<const v1::SessionEvent*> RuleIntentScorer::Drivers(
    std::span<const v1::SessionEvent* const> events, int intent, size_t max) const {
  std::vector<const v1::SessionEvent*> out;
  std::vector<IntentVote> votes;
  for (auto it = events.rbegin(); it != events.rend() && out.size() < max; ++it) {
    votes.clear();
    matcher_->Votes(**it, &votes);
    for (const auto& v : votes) {
      if (v.intent == intent && v.weight > 0) {
        out.push_back(*it);
        break;
      }
    }
  }
  return out;
}

}  // namespace intentstream::decide
