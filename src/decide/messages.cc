#include "decide/messages.h"

#include <algorithm>

#include "catalog/message_text.h"
#include "common/hash.h"

namespace intentstream::decide {

namespace {

using Kind = catalog::TemplatePart::Kind;

// Appends `piece` to `out` with one space between pieces; white space inside collapses.
void AppendText(std::string_view piece, std::string* out) {
  bool space = !out->empty();
  for (char c : piece) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out->empty();
      continue;
    }
    if (space) out->push_back(' ');
    space = false;
    out->push_back(c);
  }
}

// The passage's sentences, each with its marker before the closing punctuation.
void AppendCited(std::string_view text, int marker, std::string* out) {
  const std::string tag = " [" + std::to_string(marker) + "]";
  for (const auto sentence : catalog::Sentences(text)) {
    std::string s(sentence);
    const char last = s.back();
    if (last == '.' || last == '!' || last == '?') {
      s.insert(s.size() - 1, tag);
    } else {
      s += tag + ".";
    }
    AppendText(s, out);
  }
}

}  // namespace

size_t MessageRenderer::KeyHash::operator()(const Key& k) const {
  uint64_t h = Fnv1a64(std::string_view(reinterpret_cast<const char*>(k.terms.data()),
                                        k.terms.size() * sizeof(uint32_t)));
  h ^= (static_cast<uint64_t>(static_cast<uint32_t>(k.offer)) << 32) ^
       static_cast<uint32_t>(k.intent);
  return static_cast<size_t>(h * 0x9E3779B97F4A7C15ull);
}

MessageRenderer::MessageRenderer(std::shared_ptr<const catalog::Catalog> catalog,
                                 size_t cache_entries)
    : catalog_(std::move(catalog)),
      index_(*catalog_),
      capacity_(std::max<size_t>(1, cache_entries)) {
  for (const auto& o : catalog_->offers()) {
    std::vector<int> docs;
    for (const auto& part : o.message.parts) {
      if (part.kind == Kind::kRetrieved) docs.push_back(part.passage.document);
    }
    relevant_terms_.push_back(index_.TermsMatching(docs));
  }
  for (const auto& doc : catalog_->documents()) {
    auto& row = citations_.emplace_back();
    for (const auto& p : doc.passages) {
      auto& c = row.emplace_back();
      c.set_document_id(doc.id);
      c.set_title(doc.title);
      c.set_url(doc.url);
      c.set_excerpt(p.text);
      c.set_passage_id(p.id);
    }
  }
  // The message of every offer for each intent it serves without search terms, ready:
  // most tiles are one of these (an array index, no hashing).
  for (size_t o = 0; o < catalog_->offers().size(); ++o) {
    auto& row = plain_.emplace_back();
    const auto& intents = catalog_->offers()[o].intents;
    if (intents.empty()) row.push_back(RenderUncached(static_cast<int>(o), -1, {}));
    for (int i : intents) row.push_back(RenderUncached(static_cast<int>(o), i, {}));
  }
  stats_ = {};
}

void MessageRenderer::RecentTerms(const v1::VisitorState& state, std::vector<uint32_t>* out) const {
  out->clear();
  const auto& events = state.events();
  const int oldest = std::max(0, events.size() - kRecentEvents);
  for (int i = events.size() - 1; i >= oldest && out->size() < kMaxMessageTerms; --i) {
    for (uint32_t h : events[i].query_term_hashes()) {
      if (out->size() >= kMaxMessageTerms) break;
      if (std::find(out->begin(), out->end(), h) != out->end()) continue;
      if (index_.Knows(h)) out->push_back(h);  // a word the catalogue has
    }
  }
  std::sort(out->begin(), out->end());
}

int MessageRenderer::FocusIntent(int offer, std::span<const float> intent_scores) const {
  const auto& o = catalog_->offers()[static_cast<size_t>(offer)];
  int best = -1;
  float best_score = -1;
  for (int i : o.intents) {
    const float s = static_cast<size_t>(i) < intent_scores.size()
                        ? intent_scores[static_cast<size_t>(i)]
                        : 0.0f;
    if (s > best_score) {
      best = i;
      best_score = s;
    }
  }
  return best;
}

const RenderedMessage& MessageRenderer::Render(int offer, int intent,
                                               std::span<const uint32_t> terms) {
  return Lookup(offer, intent, terms);
}

void MessageRenderer::Put(int offer, int intent, std::span<const uint32_t> terms,
                          v1::RankedOffer* out) {
  RenderedMessage& m = Lookup(offer, intent, terms);
  if (m.lent) {  // the same message twice in one decision: the second is a copy
    Fill(m, {}, out);
    return;
  }
  out->mutable_message()->swap(*m.tile.mutable_message());
  out->mutable_citations()->Swap(m.tile.mutable_citations());
  m.lent = true;
  loans_.emplace_back(&m, out);
}

void MessageRenderer::Reclaim() {
  for (auto& [m, out] : loans_) {
    out->mutable_message()->swap(*m->tile.mutable_message());
    out->mutable_citations()->Swap(m->tile.mutable_citations());
    m->lent = false;
  }
  loans_.clear();
}

RenderedMessage& MessageRenderer::Lookup(int offer, int intent, std::span<const uint32_t> terms) {
  // Only terms that match a document the offer retrieves from can change its message:
  // bm25 ranks a document's passages by the query terms they contain.
  Key key;
  key.offer = offer;
  key.intent = intent;
  size_t n = 0;
  const auto& relevant = relevant_terms_[static_cast<size_t>(offer)];
  for (uint32_t h : terms) {
    if (n < kMaxMessageTerms && std::binary_search(relevant.begin(), relevant.end(), h)) {
      key.terms[n++] = h;
    }
  }
  if (n == 0) {
    const auto& intents = catalog_->offers()[static_cast<size_t>(offer)].intents;
    const auto at = std::find(intents.begin(), intents.end(), intent);
    if (at != intents.end() || (intents.empty() && intent < 0)) {
      ++stats_.hits;
      return plain_[static_cast<size_t>(offer)][static_cast<size_t>(at - intents.begin())];
    }
  }
  if (auto it = entries_.find(key); it != entries_.end()) {
    ++stats_.hits;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->message;
  }
  ++stats_.misses;
  if (lru_.size() >= capacity_) {
    // The least recently used entry that is not lent to a tile right now.
    for (auto victim = lru_.end(); victim != lru_.begin();) {
      --victim;
      if (victim->message.lent) continue;
      entries_.erase(victim->key);
      lru_.erase(victim);
      break;
    }
  }
  lru_.push_front(
      {key, RenderUncached(offer, intent, std::span<const uint32_t>(key.terms.data(), n))});
  entries_[key] = lru_.begin();
  return lru_.front().message;
}

RenderedMessage MessageRenderer::RenderUncached(int offer, int intent,
                                                std::span<const uint32_t> terms) {
  const auto& cat = *catalog_;
  const auto& o = cat.offers()[static_cast<size_t>(offer)];
  // The retrieval query: the offer, its product, the focus intent, the search terms.
  std::vector<std::string> query = PassageIndex::Terms(o.name);
  auto add = [&](std::string_view text) {
    for (auto& t : PassageIndex::Terms(text)) query.push_back(std::move(t));
  };
  if (o.product >= 0) add(cat.products()[static_cast<size_t>(o.product)].name);
  if (intent >= 0) {
    const auto& in = cat.intents()[static_cast<size_t>(intent)];
    add(in.name);
    for (const auto& q : in.queries) add(q);
  }
  for (uint32_t h : terms) {
    if (const auto* t = index_.TermOf(h)) query.push_back(t->word);
  }

  RenderedMessage m;
  auto cite = [&](catalog::PassageRef ref) {
    const auto it = std::find(m.citations.begin(), m.citations.end(), ref);
    if (it != m.citations.end()) return static_cast<int>(it - m.citations.begin()) + 1;
    m.citations.push_back(ref);
    return static_cast<int>(m.citations.size());
  };
  auto used = [&](catalog::PassageRef ref) {
    return std::find(m.citations.begin(), m.citations.end(), ref) != m.citations.end();
  };
  // Pinned passages are cited wherever they stand; retrieval must not repeat them.
  std::vector<catalog::PassageRef> pinned;
  for (const auto& part : o.message.parts) {
    if (part.kind == Kind::kPassage) pinned.push_back(part.passage);
  }
  std::string literal;
  auto flush = [&] {
    AppendText(literal, &m.body);
    literal.clear();
  };
  for (const auto& part : o.message.parts) {
    switch (part.kind) {
      case Kind::kText:
        literal += part.text;
        break;
      case Kind::kName:
        literal += o.name;
        break;
      case Kind::kHeadline:
        literal += o.headline;
        break;
      case Kind::kProduct:
        literal += cat.products()[static_cast<size_t>(o.product)].name;
        break;
      case Kind::kIntent: {
        const int i = intent >= 0 ? intent : o.intents.front();
        literal += cat.intents()[static_cast<size_t>(i)].name;
        break;
      }
      case Kind::kPassage:
        flush();
        AppendCited(cat.passage(part.passage).text, cite(part.passage), &m.body);
        break;
      case Kind::kRetrieved: {
        flush();
        const int d = part.passage.document;
        const auto& doc = cat.documents()[static_cast<size_t>(d)];
        auto eligible = [&](int p) {
          const catalog::PassageRef ref{d, p};
          return doc.passages[static_cast<size_t>(p)].kind != catalog::PassageKind::kRiskWarning &&
                 !used(ref) && std::find(pinned.begin(), pinned.end(), ref) == pinned.end();
        };
        // Ask for enough to skip what is already cited; top up in document order when
        // fewer passages match.
        std::vector<int> picked;
        const size_t want = static_cast<size_t>(part.count);
        for (int p : index_.Search(d, query, want + pinned.size() + m.citations.size())) {
          if (picked.size() < want && eligible(p)) picked.push_back(p);
        }
        for (int p = 0; p < static_cast<int>(doc.passages.size()) && picked.size() < want; ++p) {
          if (eligible(p) && std::find(picked.begin(), picked.end(), p) == picked.end()) {
            picked.push_back(p);
          }
        }
        for (int p : picked)
          AppendCited(doc.passages[static_cast<size_t>(p)].text, cite({d, p}), &m.body);
        break;
      }
    }
  }
  flush();
  for (const auto& ref : o.risk_warnings) {
    AppendCited(cat.passage(ref).text, cite(ref), &m.warnings);
  }
  m.text = m.body;
  AppendText(m.warnings, &m.text);
  if (m.text.empty()) m.text = o.headline;
  Fill(m, {}, &m.tile);
  return m;
}

void MessageRenderer::Fill(const RenderedMessage& message, std::string_view body,
                           v1::RankedOffer* out) const {
  if (body.empty()) {
    out->set_message(message.text);
  } else {
    std::string text(body);
    AppendText(message.warnings, &text);
    out->set_message(std::move(text));
  }
  auto* citations = out->mutable_citations();
  citations->Reserve(static_cast<int>(message.citations.size()));
  for (const auto& ref : message.citations) {
    *citations->Add() =
        citations_[static_cast<size_t>(ref.document)][static_cast<size_t>(ref.passage)];
  }
}

}  // namespace intentstream::decide
