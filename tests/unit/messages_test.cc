// Passage retrieval (SQLite FTS5) and grounded message rendering over the built-in
// catalogue: every factual sentence cited, risk warnings always present, retrieval
// following the visitor's search terms, the same inputs giving the same message.
#include "decide/messages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog/message_text.h"
#include "common/hash.h"
#include "decide/retrieval.h"

namespace intentstream::decide {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::shared_ptr<const catalog::Catalog> Cat() {
  return catalog::DefaultCatalog();
}

int Doc(const char* id) {
  const int d = Cat()->FindDocument(id);
  EXPECT_GE(d, 0) << id;
  return d;
}

int Offer(const char* id) {
  const int o = Cat()->FindOffer(id);
  EXPECT_GE(o, 0) << id;
  return o;
}

std::string PassageId(int doc, int passage) {
  return Cat()->documents()[static_cast<size_t>(doc)].passages[static_cast<size_t>(passage)].id;
}

std::vector<uint32_t> Hashes(std::initializer_list<const char*> words) {
  std::vector<uint32_t> out;
  for (const char* w : words) out.push_back(Fnv1a32(w));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(PassageIndexTest, RanksByBm25WithinTheDocumentAndNeverReturnsRiskWarnings) {
  PassageIndex index(*Cat());
  const int travel = Doc("DOC_CC_TRAVEL");
  std::vector<std::string> lounge = {"lounges"};  // stemmed like the passages
  auto hits = index.Search(travel, lounge, 5);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(PassageId(travel, hits[0]), "DOC_CC_TRAVEL#rewards");
  std::vector<std::string> fees = {"foreign", "transaction", "fees"};
  hits = index.Search(travel, fees, 5);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(PassageId(travel, hits[0]), "DOC_CC_TRAVEL#fees");
  // Words of the risk warning find nothing: warnings are appended, never retrieved.
  std::vector<std::string> warning = {"affordability", "status"};
  EXPECT_TRUE(index.Search(travel, warning, 5).empty());
  // Only the asked document; stop words and FTS5 syntax are plain words or ignored.
  std::vector<std::string> odd = {"the", "AND", "lounge*", "\"", "NEAR(", "OR"};
  for (int p : index.Search(travel, odd, 5)) EXPECT_LT(p, 5);
  std::vector<std::string> other = {"mortgage"};
  EXPECT_TRUE(index.Search(travel, other, 5).empty());
}

TEST(PassageIndexTest, TurnsHashedSearchTermsBackOnlyIntoCatalogueWords) {
  PassageIndex index(*Cat());
  const auto* lounge = index.TermOf(Fnv1a32("lounge"));
  ASSERT_NE(lounge, nullptr);
  EXPECT_EQ(lounge->word, "lounge");
  EXPECT_THAT(lounge->documents, ::testing::Contains(Doc("DOC_CC_TRAVEL")));
  EXPECT_EQ(index.TermOf(Fnv1a32("zyzzyva")), nullptr);
  EXPECT_EQ(index.TermOf(Fnv1a32("the")), nullptr) << "stop words are not terms";
  // "rates" (a taxonomy query word) matches passages saying "rate" after stemming.
  const auto* rates = index.TermOf(Fnv1a32("rates"));
  ASSERT_NE(rates, nullptr);
  EXPECT_THAT(rates->documents, ::testing::Contains(Doc("DOC_MORTGAGE_FIXED")));
}

// Every factual sentence of `text` cites a passage whose text contains the sentence.
void ExpectGrounded(const RenderedMessage& m, const std::string& where) {
  const auto& cat = *Cat();
  for (const auto sentence : catalog::Sentences(m.text)) {
    const auto markers = catalog::CitationMarkers(sentence);
    if (markers.empty()) {
      EXPECT_FALSE(catalog::StatesFact(sentence)) << where << ": uncited fact: " << sentence;
      continue;
    }
    ASSERT_EQ(markers.size(), 1u) << where << ": " << sentence;
    ASSERT_GE(markers[0], 1);
    ASSERT_LE(static_cast<size_t>(markers[0]), m.citations.size()) << where;
    const auto& passage = cat.passage(m.citations[static_cast<size_t>(markers[0] - 1)]);
    EXPECT_THAT(passage.text, HasSubstr(catalog::WithoutMarkers(sentence).substr(0, 20)))
        << where << ": " << sentence;
  }
}

TEST(MessageRendererTest, EveryOfferAndIntentGetsACitedMessageWithItsRiskWarning) {
  MessageRenderer r(Cat(), 64);
  const auto& cat = *Cat();
  for (size_t o = 0; o < cat.offers().size(); ++o) {
    const auto& offer = cat.offers()[o];
    std::vector<int> intents = offer.intents;
    if (intents.empty()) intents.push_back(-1);
    for (int i : intents) {
      const RenderedMessage m = r.RenderUncached(static_cast<int>(o), i, {});
      ExpectGrounded(m, offer.id);
      EXPECT_FALSE(m.citations.empty()) << offer.id << " states no fact at all";
      if (offer.sensitive) {
        ASSERT_FALSE(offer.risk_warnings.empty());
        EXPECT_EQ(m.citations.back(), offer.risk_warnings.back()) << offer.id;
        EXPECT_EQ(m.text.substr(m.text.size() - m.warnings.size()), m.warnings) << offer.id;
        EXPECT_THAT(m.warnings, HasSubstr(cat.passage(offer.risk_warnings[0]).text.substr(0, 30)));
      } else {
        EXPECT_TRUE(m.warnings.empty()) << offer.id;
      }
    }
  }
}

TEST(MessageRendererTest, SearchTermsChooseTheRetrievedPassage) {
  MessageRenderer r(Cat(), 64);
  const int card = Offer("OFR_TRAVEL_CARD");
  const int travel = Cat()->FindIntent("travel_rewards");
  auto cited = [&](const RenderedMessage& m) {
    std::vector<std::string> ids;
    for (const auto& c : m.citations) ids.push_back(Cat()->passage(c).id);
    return ids;
  };
  // Template: the pinned rate, one retrieved passage, the risk warning.
  const auto lounge = Hashes({"lounge", "airport"});
  EXPECT_THAT(cited(r.Render(card, travel, lounge)),
              ElementsAre("DOC_CC_TRAVEL#rate", "DOC_CC_TRAVEL#rewards", "DOC_CC_TRAVEL#risk"));
  // Without the intent's example queries (which talk of lounges and miles), the
  // searched-for words decide.
  const auto income = Hashes({"income", "yearly"});
  const auto m = cited(r.Render(card, -1, income));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1], "DOC_CC_TRAVEL#eligibility") << "the searched-for passage is retrieved";
  const auto fees = Hashes({"foreign", "fees"});
  EXPECT_EQ(cited(r.Render(card, -1, fees))[1], "DOC_CC_TRAVEL#fees");
}

TEST(MessageRendererTest, SameInputsSameMessageAndTheCacheOnlyRemembers) {
  MessageRenderer a(Cat(), 8);
  MessageRenderer b(Cat(), 1);  // evicts on every new key
  const int saver = Offer("OFR_EASY_ACCESS_SAVER");
  const int intent = Cat()->FindIntent("emergency_savings");
  const auto terms = Hashes({"withdraw", "notice"});
  const std::string first = a.Render(saver, intent, terms).text;
  const auto before = a.cache_stats();
  EXPECT_EQ(a.Render(saver, intent, terms).text, first);
  EXPECT_EQ(a.cache_stats().hits, before.hits + 1);
  b.Render(Offer("OFR_TRAVEL_CARD"), -1, {});
  EXPECT_EQ(b.Render(saver, intent, terms).text, first);
  EXPECT_EQ(a.RenderUncached(saver, intent, terms).text, first);
  // Terms no passage of the offer's documents has do not change the message (nor the key).
  const auto unrelated = Hashes({"mortgage", "lounge"});
  const auto misses = a.cache_stats().misses;
  EXPECT_EQ(a.Render(saver, intent, unrelated).text, a.Render(saver, intent, {}).text);
  EXPECT_EQ(a.cache_stats().misses, misses) << "an unrelated term made a new key";
}

TEST(MessageRendererTest, FillsTheTileWithCitationsInMarkerOrder) {
  MessageRenderer r(Cat(), 8);
  const int loan = Offer("OFR_PERSONAL_LOAN");
  const auto& m = r.Render(loan, -1, {});
  v1::RankedOffer tile;
  r.Fill(m, {}, &tile);
  EXPECT_EQ(tile.message(), m.text);
  ASSERT_EQ(static_cast<size_t>(tile.citations_size()), m.citations.size());
  const auto& first = tile.citations(0);
  EXPECT_EQ(first.passage_id(), "DOC_LOAN_PERSONAL#rate");
  EXPECT_EQ(first.document_id(), "DOC_LOAN_PERSONAL");
  EXPECT_EQ(first.title(), "Personal loan: key facts");
  EXPECT_EQ(first.url(), "/loans/personal/key-facts");
  EXPECT_THAT(first.excerpt(), HasSubstr("6.9% APR"));
  EXPECT_THAT(tile.message(), HasSubstr("6.9% APR fixed on loans of £7,500 to £25,000 [1]."));
  // Put lends the rendered message without copying; Reclaim takes it back intact.
  v1::RankedOffer lent, twice;
  r.Put(loan, -1, {}, &lent);
  r.Put(loan, -1, {}, &twice);  // lent already: a copy
  EXPECT_EQ(lent.SerializeAsString(), tile.SerializeAsString());
  EXPECT_EQ(twice.SerializeAsString(), tile.SerializeAsString());
  r.Reclaim();
  EXPECT_TRUE(lent.message().empty());
  EXPECT_EQ(lent.citations_size(), 0);
  v1::RankedOffer again;
  r.Put(loan, -1, {}, &again);
  EXPECT_EQ(again.SerializeAsString(), tile.SerializeAsString());
  r.Reclaim();
  // A rephrased body keeps the template's risk warnings after it.
  v1::RankedOffer rephrased;
  r.Fill(m, "Borrow at 6.9% APR [1].", &rephrased);
  EXPECT_EQ(rephrased.message(), "Borrow at 6.9% APR [1]. " + m.warnings);
}

}  // namespace
}  // namespace intentstream::decide
