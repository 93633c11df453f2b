#include "ingest/session_event.h"

#include <gtest/gtest.h>

#include "common/hash.h"
#include "support/events.h"

namespace intentstream::ingest {
namespace {

TEST(CategoryFromPath, NormalisesPaths) {
  EXPECT_EQ(CategoryFromPath("/Credit-Cards/Travel-Rewards/?utm=x"),
            "/credit-cards/travel-rewards");
  EXPECT_EQ(CategoryFromPath("/mortgages/calculator#top"), "/mortgages/calculator");
  EXPECT_EQ(CategoryFromPath("/a/b/c/d/e"), "/a/b/c");
  EXPECT_EQ(CategoryFromPath("//help///cards"), "/help/cards");
  EXPECT_EQ(CategoryFromPath(""), "/");
  EXPECT_EQ(CategoryFromPath("/?q=x"), "/");
}

TEST(HashQueryTerms, LowerCasesSplitsAndCaps) {
  v1::SessionEvent e;
  HashQueryTerms("Travel CARD, no-fee fx abroad now", &e);
  ASSERT_EQ(e.query_term_hashes_size(), 4);
  EXPECT_EQ(e.query_term_hashes(0), Fnv1a32("travel"));
  EXPECT_EQ(e.query_term_hashes(1), Fnv1a32("card"));
  EXPECT_EQ(e.query_term_hashes(2), Fnv1a32("no"));
  EXPECT_EQ(e.query_term_hashes(3), Fnv1a32("fee"));
}

TEST(ToSessionEvent, WebUsesPageCategoryWhenGiven) {
  auto web = testing::Web("e1", "anon", 1700000000123, "/Mortgages/Calculator?x=1");
  auto se = ToSessionEvent(web);
  EXPECT_EQ(se.event_key(), Fnv1a64("e1"));
  EXPECT_EQ(se.time_ms(), 1700000000123);
  EXPECT_EQ(se.source(), v1::SOURCE_WEB);
  EXPECT_EQ(se.category(), "/mortgages/calculator");
  EXPECT_EQ(se.event_type(), static_cast<uint32_t>(v1::WEB_EVENT_TYPE_PAGE_VIEW));
  web.set_page_category("mortgage_tools");
  EXPECT_EQ(ToSessionEvent(web).category(), "mortgage_tools");
}

TEST(ToSessionEvent, AppUsesScreenAndOfferAsProductFallback) {
  auto app = testing::App("a1", "cust", 1700000000000, v1::APP_ACTION_TILE_CLICK, "OFFER_CC");
  auto se = ToSessionEvent(app);
  EXPECT_EQ(se.source(), v1::SOURCE_APP);
  EXPECT_EQ(se.category(), "home");
  EXPECT_EQ(se.product(), "OFFER_CC");
  app.set_product_code("CC_TRAVEL");
  EXPECT_EQ(ToSessionEvent(app).product(), "CC_TRAVEL");
}

}  // namespace
}  // namespace intentstream::ingest
