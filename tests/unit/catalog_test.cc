#include "catalog/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace intentstream::catalog {
namespace {

using ::testing::HasSubstr;

v1::CustomerProfile Profile() {
  v1::CustomerProfile p;
  p.set_customer_id("c-1");
  p.set_age_band(v1::AGE_BAND_35_44);
  p.set_income_band(v1::INCOME_BAND_MIDDLE);
  p.set_credit_grade(4);
  p.set_tenure_months(30);
  p.add_products_held("CURRENT_ACCOUNT");
  p.add_opted_out_channels("email");
  return p;
}

std::optional<Expression> Compile(const std::string& text, std::string* error) {
  return Expression::Compile(
      text, [](std::string_view code) { return code == "CURRENT_ACCOUNT" || code == "CC_X"; },
      error);
}

Tri Eval(const std::string& text, const v1::CustomerProfile* p, uint32_t* missing = nullptr) {
  std::string error;
  const auto e = Compile(text, &error);
  EXPECT_TRUE(e) << text << ": " << error;
  return e ? e->Evaluate(p, missing) : Tri::kUnknown;
}

TEST(ExpressionTest, ComparesFieldsWithTheirTypes) {
  const auto p = Profile();
  EXPECT_EQ(Eval("age_band >= AGE_BAND_25_34", &p), Tri::kTrue);
  EXPECT_EQ(Eval("age_band < AGE_BAND_25_34", &p), Tri::kFalse);
  EXPECT_EQ(Eval("income_band == INCOME_BAND_MIDDLE and credit_grade <= 4", &p), Tri::kTrue);
  EXPECT_EQ(Eval("tenure_months > 30 || holds('CC_X')", &p), Tri::kFalse);
  EXPECT_EQ(Eval("holds('CC_X', 'CURRENT_ACCOUNT') && !opted_out('push')", &p), Tri::kTrue);
  EXPECT_EQ(Eval("not (opted_out('email'))", &p), Tri::kFalse);
  EXPECT_EQ(Eval("marketing_consent == false", &p), Tri::kTrue);
  EXPECT_EQ(Eval("", &p), Tri::kTrue);
}

TEST(ExpressionTest, MissingFieldsAreUnknownWithKleeneLogic) {
  auto p = Profile();
  p.set_credit_grade(0);  // unknown grade
  uint32_t missing = 0;
  EXPECT_EQ(Eval("credit_grade <= 6", &p, &missing), Tri::kUnknown);
  EXPECT_EQ(MissingFieldNames(missing), "credit_grade");
  EXPECT_EQ(Eval("credit_grade <= 6 and age_band < AGE_BAND_25_34", &p), Tri::kFalse);
  EXPECT_EQ(Eval("credit_grade <= 6 or age_band > AGE_BAND_25_34", &p), Tri::kTrue);
  EXPECT_EQ(Eval("not (credit_grade <= 6)", &p), Tri::kUnknown);
  // No profile at all: everything the rule reads is missing.
  EXPECT_EQ(Eval("holds('CC_X') or age_band >= AGE_BAND_18_24", nullptr, &missing), Tri::kUnknown);
  EXPECT_EQ(MissingFieldNames(missing), "age_band, products_held");
}

TEST(ExpressionTest, ErrorsNameThePosition) {
  std::string error;
  EXPECT_FALSE(Compile("age_band >= INCOME_BAND_LOW", &error));
  EXPECT_THAT(error, HasSubstr("position 13: cannot compare an AgeBand with an IncomeBand"));
  EXPECT_FALSE(Compile("holds('CC_Y')", &error));
  EXPECT_THAT(error, HasSubstr("position 7: unknown product 'CC_Y'"));
  EXPECT_FALSE(Compile("age > 3", &error));
  EXPECT_THAT(error, HasSubstr("position 1: unknown field or constant 'age'"));
  EXPECT_FALSE(Compile("monitoring == 'female'", &error));
  EXPECT_THAT(error, HasSubstr("protected attribute"));
  EXPECT_FALSE(Compile("credit_grade <= 4 and", &error));
  EXPECT_THAT(error, HasSubstr("unexpected end of expression"));
  EXPECT_FALSE(Compile("tenure_months", &error));
  EXPECT_THAT(error, HasSubstr("is a number, not a condition"));
  EXPECT_FALSE(Compile("age_band == AGE_BAND_UNSPECIFIED", &error));
  EXPECT_FALSE(Compile(std::string(40, '(') + "true" + std::string(40, ')'), &error));
  EXPECT_THAT(error, HasSubstr("nested too deeply"));
  EXPECT_FALSE(Compile("'x'", &error));
}

TEST(CatalogTest, BuiltInCatalogueLoadsAndCrossReferences) {
  const auto cat = DefaultCatalog();
  EXPECT_EQ(cat->intents().size(), 12u);
  EXPECT_EQ(cat->offers().size(), 30u);
  EXPECT_EQ(cat->version().substr(0, 4), "cat-");
  EXPECT_EQ(cat->taxonomy_version().substr(0, 4), "tax-");
  const int mortgage = cat->FindOffer("OFR_FIRST_HOME_MORTGAGE");
  ASSERT_GE(mortgage, 0);
  const auto& o = cat->offers()[static_cast<size_t>(mortgage)];
  EXPECT_TRUE(o.credit);
  EXPECT_EQ(cat->FindOfferByTile("TILE_MORTGAGE"), mortgage);
  EXPECT_FALSE(cat->intents()[static_cast<size_t>(cat->FindIntent("fraud_concern"))].marketing);
  // The built-in copy is the repository's files.
  const auto from_dir = LoadCatalog(std::string(INTENTSTREAM_TEST_SOURCE_DIR) + "/models/catalog");
  EXPECT_EQ(from_dir->version(), cat->version());
}

class CatalogFilesTest : public ::testing::Test {
 protected:
  CatalogFiles files_ = BuiltInCatalogFiles();
  std::string Error() {
    try {
      ParseCatalog(files_);
    } catch (const CatalogError& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(CatalogFilesTest, BrokenEligibilityNamesFileLineOfferAndPosition) {
  files_.origin = "cat";
  files_.offers += R"({"id":"OFR_BAD","name":"x","intents":["home_buying"],"value":1,)"
                   R"j("priority":0.5,"channels":["push"],"eligibility":"holds('NOPE')"})j"
                   "\n";
  EXPECT_EQ(Error(),
            "cat/offers.jsonl:31: offer 'OFR_BAD': field 'eligibility': position 7: unknown "
            "product 'NOPE' in holds()");
}

TEST_F(CatalogFilesTest, EachBrokenFieldIsNamed) {
  const auto base = files_;
  files_.offers += R"({"id":"OFR_X","name":"x","intents":["home_buying"],"value":1,"priority":0.5,)"
                   R"("channels":["billboard"]})";
  EXPECT_THAT(Error(), HasSubstr("field 'channels': unknown placement 'billboard'"));
  files_ = base;
  files_.offers += R"({"id":"OFR_X","name":"x","intents":["nope"],"value":1,"priority":0.5,)"
                   R"("channels":["push"]})";
  EXPECT_THAT(Error(), HasSubstr("offer 'OFR_X': field 'intents': unknown intent 'nope'"));
  files_ = base;
  files_.offers += R"({"id":"OFR_X","name":"x","intents":[],"value":1,"priority":2,)"
                   R"("channels":["push"]})";
  EXPECT_THAT(Error(), HasSubstr("field 'priority': value 2 outside [0, 1]"));
  files_ = base;
  files_.offers += R"({"id":"OFR_X","name":"x","intents":[],"value":1,"priority":0.5,)"
                   R"("channels":["push"],"eligibilty":"true"})";
  EXPECT_THAT(Error(), HasSubstr("field 'eligibilty': unknown field"));
  files_ = base;
  files_.taxonomy += R"({"id":"home_buying","name":"x","description":"y","marketing":true,)"
                     R"("offers":[]})";
  EXPECT_THAT(Error(), HasSubstr("taxonomy.jsonl:13: intent 'home_buying': field 'id': duplicate"));
  files_ = base;
  files_.taxonomy += R"({"id":"new_intent","name":"x","marketing":true,"offers":[]})";
  EXPECT_THAT(Error(), HasSubstr("intent 'new_intent': field 'description': missing"));
  files_ = base;
  files_.taxonomy += "{not json\n";
  EXPECT_THAT(Error(), HasSubstr("taxonomy.jsonl:13: not valid JSON"));
  files_ = base;
  files_.products += R"({"code":"CURRENT_ACCOUNT","name":"x","kind":"y"})";
  EXPECT_THAT(Error(), HasSubstr("product 'CURRENT_ACCOUNT': field 'code': duplicate"));
}

TEST_F(CatalogFilesTest, VersionFollowsTheContent) {
  const auto a = ParseCatalog(files_);
  files_.offers += R"({"id":"OFR_NEW","name":"New","intents":["home_buying"],"value":1,)"
                   R"("priority":0.5,"channels":["home_tile"]})";
  const auto b = ParseCatalog(files_);
  EXPECT_NE(a->version(), b->version());
  EXPECT_EQ(a->taxonomy_version(), b->taxonomy_version());
  EXPECT_EQ(b->offers().size(), a->offers().size() + 1);
}

TEST(CatalogLoadTest, MissingDirectoryFailsNamingTheFile) {
  testing::TempDir dir;
  try {
    LoadCatalog(dir.path().string());
    FAIL() << "loaded an empty directory";
  } catch (const CatalogError& e) {
    EXPECT_THAT(e.what(), HasSubstr("taxonomy.jsonl: cannot read"));
  }
}

}  // namespace
}  // namespace intentstream::catalog
