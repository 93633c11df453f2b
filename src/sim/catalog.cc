#include "sim/catalog.h"

namespace intentstream::sim {

namespace {

std::array<IntentSpec, kIntentCount> BuildIntents() {
  using I = Intent;
  return {{
      {I::kHomeBuying,
       "home_buying",
       "TILE_MORTGAGE",
       "OFR_FIRST_HOME_MORTGAGE",
       "MORTGAGE_FIXED",
       "mortgages",
       0.8,
       20,
       50,
       true,
       {"/mortgages", "/mortgages/first-time-buyers", "/mortgages/calculator", "/mortgages/rates",
        "/mortgages/fixed-rate", "/mortgages/agreement-in-principle", "/help/mortgages/deposit",
        "/guides/buying-your-first-home"},
       {"mortgage rates", "first time buyer mortgage", "how much can i borrow",
        "deposit for a house", "mortgage calculator", "agreement in principle"},
       {"products/mortgages", "mortgages/calculator"},
       "/apply/mortgage"},
      {I::kRefinancing,
       "refinancing",
       "TILE_REMORTGAGE",
       "OFR_REMORTGAGE_SWITCH",
       "MORTGAGE_REMORTGAGE",
       "remortgage",
       0.6,
       10,
       30,
       true,
       {"/mortgages/remortgage", "/mortgages/remortgage/calculator", "/mortgages/rates",
        "/mortgages/switch-rate", "/help/mortgages/early-repayment", "/mortgages"},
       {"remortgage", "switch mortgage rate", "early repayment charge", "refinance my home",
        "end of fixed rate"},
       {"mortgages/my-mortgage", "products/remortgage"},
       "/apply/remortgage"},
      {I::kTravelRewards,
       "travel_rewards",
       "TILE_CC_TRAVEL",
       "OFR_TRAVEL_CARD",
       "CC_TRAVEL",
       "travel-card",
       1.2,
       5,
       20,
       true,
       {"/credit-cards/travel-rewards", "/credit-cards", "/credit-cards/compare",
        "/credit-cards/travel-rewards/benefits", "/travel/foreign-transaction-fees",
        "/credit-cards/eligibility-checker"},
       {"travel credit card", "air miles card", "no foreign transaction fee card",
        "airport lounge access", "travel insurance card"},
       {"products/travel-card", "cards/compare"},
       "/apply/credit-card"},
      {I::kBalanceTransfer,
       "balance_transfer",
       "TILE_CC_BT",
       "OFR_BALANCE_TRANSFER",
       "CC_BALANCE_TRANSFER",
       "balance-transfer",
       1.0,
       5,
       15,
       true,
       {"/credit-cards/balance-transfer", "/credit-cards/compare", "/loans/debt-consolidation",
        "/credit-cards/balance-transfer/calculator", "/help/credit-cards/transfer-a-balance",
        "/credit-cards"},
       {"balance transfer", "0% balance transfer", "consolidate debt", "pay off credit card debt",
        "debt consolidation loan"},
       {"products/balance-transfer", "cards/compare"},
       "/apply/credit-card"},
      {I::kBuildingCredit,
       "building_credit",
       "TILE_CREDIT_BUILDER",
       "OFR_CREDIT_BUILDER",
       "CC_CREDIT_BUILDER",
       "credit-builder",
       0.6,
       10,
       30,
       false,
       {"/credit-cards/credit-builder", "/help/credit-score", "/credit-score/check",
        "/credit-cards/eligibility-checker", "/guides/improve-your-credit-score"},
       {"improve credit score", "credit builder card", "card for bad credit",
        "check my credit score", "why was i declined"},
       {"credit-score", "products/credit-builder"},
       "/apply/credit-card"},
      {I::kEmergencySavings,
       "emergency_savings",
       "TILE_SAVINGS",
       "OFR_EASY_ACCESS_SAVER",
       "SAVINGS_EASY_ACCESS",
       "savings",
       1.0,
       7,
       21,
       false,
       {"/savings", "/savings/easy-access", "/savings/rates", "/savings/calculator",
        "/guides/emergency-fund", "/savings/compare"},
       {"savings account", "easy access savings", "savings interest rates", "emergency fund",
        "save for a rainy day"},
       {"products/savings", "savings/goals"},
       "/apply/savings"},
      {I::kRetirementInvesting,
       "retirement_investing",
       "TILE_INVEST",
       "OFR_PENSION_TRANSFER",
       "INVEST_PENSION",
       "investing",
       0.7,
       14,
       40,
       false,
       {"/investments", "/investments/pension", "/investments/stocks-and-shares-isa",
        "/retirement/calculator", "/investments/risk-profile", "/guides/retirement-planning"},
       {"pension", "retirement planning", "stocks and shares isa", "investment fees",
        "pension transfer"},
       {"products/investing", "investments/portfolio"},
       "/apply/investment-account"},
      {I::kAutoLoan,
       "auto_loan",
       "TILE_AUTO_LOAN",
       "OFR_CAR_FINANCE",
       "LOAN_AUTO",
       "car-finance",
       0.8,
       7,
       25,
       true,
       {"/loans/car-finance", "/loans", "/loans/car-finance/calculator", "/loans/rates",
        "/guides/buying-a-car"},
       {"car loan", "car finance", "loan calculator", "personal loan rates", "finance a used car"},
       {"products/car-finance", "loans/calculator"},
       "/apply/loan"},
      {I::kStudentLoan,
       "student_loan",
       "TILE_STUDENT",
       "OFR_GRADUATE_ACCOUNT",
       "LOAN_STUDENT",
       "students",
       0.4,
       10,
       30,
       false,
       {"/students", "/students/graduate-account", "/loans/student", "/students/overdraft",
        "/guides/university-costs"},
       {"student account", "graduate overdraft", "student loan", "university budgeting"},
       {"products/students"},
       "/apply/student"},
      {I::kSmallBusiness,
       "small_business",
       "TILE_BUSINESS",
       "OFR_BUSINESS_ACCOUNT",
       "BUSINESS_ACCOUNT",
       "business",
       0.4,
       10,
       30,
       false,
       {"/business", "/business/current-account", "/business/loans", "/business/card-payments",
        "/business/open-account"},
       {"business account", "sole trader account", "business loan", "card machine for business"},
       {"products/business"},
       "/apply/business-account"},
      {I::kFraudConcern,
       "fraud_concern",
       "TILE_SECURITY",
       "OFR_SECURITY_CHECKUP",
       "",
       "security",
       0.8,
       1,
       3,
       false,
       {"/security", "/security/report-fraud", "/help/lost-or-stolen-card", "/security/scams",
        "/help/freeze-card"},
       {"report fraud", "lost card", "scam text message", "freeze card", "unknown transaction"},
       {"cards/freeze", "security/alerts", "help/fraud"},
       ""},
      {I::kEverydayServicing,
       "everyday_servicing",
       "TILE_CASHBACK",
       "OFR_CASHBACK_CARD",
       "CC_CASHBACK",
       "cashback",
       0.0,
       1,
       1,
       true,
       {"/help", "/help/contact-us", "/help/reset-password", "/branch-locator",
        "/help/payments/international", "/accounts/current-account", "/help/statements", "/rates"},
       {"sort code", "opening hours", "reset password", "contact number", "international payment",
        "change address"},
       {"products/cashback"},
       "/apply/credit-card"},
  }};
}

}  // namespace

const std::array<IntentSpec, kIntentCount>& Intents() {
  static const std::array<IntentSpec, kIntentCount> intents = BuildIntents();
  return intents;
}

const IntentSpec& Spec(Intent intent) {
  return Intents()[static_cast<size_t>(intent)];
}

std::string_view IntentName(Intent intent) {
  return Spec(intent).name;
}

std::optional<Intent> IntentFromName(std::string_view name) {
  for (const auto& spec : Intents()) {
    if (spec.name == name) return spec.intent;
  }
  return std::nullopt;
}

std::optional<Intent> IntentFromTile(std::string_view tile_id) {
  for (const auto& spec : Intents()) {
    if (spec.tile_id == tile_id) return spec.intent;
  }
  return std::nullopt;
}

const std::vector<std::string_view>& GeneralPages() {
  static const std::vector<std::string_view> pages = {
      "/",         "/login",   "/help",    "/accounts/current-account",
      "/about-us", "/contact", "/privacy", "/accessibility",
      "/careers",  "/news"};
  return pages;
}

const std::vector<std::string_view>& ServicingQueries() {
  static const std::vector<std::string_view> queries = {
      "sort code",      "opening hours",         "reset password",      "contact number",
      "change address", "international payment", "cancel direct debit", "statement"};
  return queries;
}

const std::vector<std::string_view>& JunkPaths() {
  static const std::vector<std::string_view> paths = {
      "/wp-login.php",         "/.env",        "/admin",
      "/xmlrpc.php",           "/robots.txt",  "/sitemap.xml",
      "/phpmyadmin/index.php", "/.git/config", "/cgi-bin/test.cgi",
      "/favicon.ico"};
  return paths;
}

}  // namespace intentstream::sim
