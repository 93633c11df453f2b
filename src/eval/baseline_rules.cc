#include "eval/baseline_rules.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "ingest/session_event.h"

namespace intentstream::eval {

using sim::Intent;

namespace {

// Path prefixes the bank's CMS files under a product area. Shared pages such as
// /credit-cards/compare are deliberately absent: they say nothing on their own.
constexpr std::pair<std::string_view, Intent> kPathRules[] = {
    {"/mortgages/remortgage", Intent::kRefinancing},
    {"/mortgages/switch-rate", Intent::kRefinancing},
    {"/help/mortgages/early-repayment", Intent::kRefinancing},
    {"/apply/remortgage", Intent::kRefinancing},
    {"/mortgages", Intent::kHomeBuying},
    {"/help/mortgages", Intent::kHomeBuying},
    {"/guides/buying-your-first-home", Intent::kHomeBuying},
    {"/apply/mortgage", Intent::kHomeBuying},
    {"/credit-cards/travel-rewards", Intent::kTravelRewards},
    {"/travel", Intent::kTravelRewards},
    {"/credit-cards/balance-transfer", Intent::kBalanceTransfer},
    {"/loans/debt-consolidation", Intent::kBalanceTransfer},
    {"/help/credit-cards/transfer-a-balance", Intent::kBalanceTransfer},
    {"/credit-cards/credit-builder", Intent::kBuildingCredit},
    {"/credit-score", Intent::kBuildingCredit},
    {"/help/credit-score", Intent::kBuildingCredit},
    {"/guides/improve-your-credit-score", Intent::kBuildingCredit},
    {"/savings", Intent::kEmergencySavings},
    {"/guides/emergency-fund", Intent::kEmergencySavings},
    {"/apply/savings", Intent::kEmergencySavings},
    {"/investments", Intent::kRetirementInvesting},
    {"/retirement", Intent::kRetirementInvesting},
    {"/guides/retirement-planning", Intent::kRetirementInvesting},
    {"/apply/investment-account", Intent::kRetirementInvesting},
    {"/loans/car-finance", Intent::kAutoLoan},
    {"/guides/buying-a-car", Intent::kAutoLoan},
    {"/loans/student", Intent::kStudentLoan},
    {"/students", Intent::kStudentLoan},
    {"/guides/university-costs", Intent::kStudentLoan},
    {"/apply/student", Intent::kStudentLoan},
    {"/business", Intent::kSmallBusiness},
    {"/apply/business-account", Intent::kSmallBusiness},
    {"/security", Intent::kFraudConcern},
    {"/help/lost-or-stolen-card", Intent::kFraudConcern},
    {"/help/freeze-card", Intent::kFraudConcern},
};

// Keyword rules in priority order ("remortgage" before "mortgage").
constexpr std::pair<std::string_view, Intent> kQueryRules[] = {
    {"remortgage", Intent::kRefinancing},
    {"refinance", Intent::kRefinancing},
    {"early repayment", Intent::kRefinancing},
    {"fixed rate", Intent::kRefinancing},
    {"mortgage", Intent::kHomeBuying},
    {"deposit for", Intent::kHomeBuying},
    {"borrow", Intent::kHomeBuying},
    {"agreement in principle", Intent::kHomeBuying},
    {"travel", Intent::kTravelRewards},
    {"miles", Intent::kTravelRewards},
    {"lounge", Intent::kTravelRewards},
    {"foreign", Intent::kTravelRewards},
    {"balance transfer", Intent::kBalanceTransfer},
    {"consolidat", Intent::kBalanceTransfer},
    {"debt", Intent::kBalanceTransfer},
    {"credit score", Intent::kBuildingCredit},
    {"bad credit", Intent::kBuildingCredit},
    {"credit builder", Intent::kBuildingCredit},
    {"declined", Intent::kBuildingCredit},
    {"saving", Intent::kEmergencySavings},
    {"emergency", Intent::kEmergencySavings},
    {"rainy", Intent::kEmergencySavings},
    {"pension", Intent::kRetirementInvesting},
    {"retire", Intent::kRetirementInvesting},
    {"isa", Intent::kRetirementInvesting},
    {"invest", Intent::kRetirementInvesting},
    {"car ", Intent::kAutoLoan},
    {"car", Intent::kAutoLoan},
    {"student", Intent::kStudentLoan},
    {"graduate", Intent::kStudentLoan},
    {"university", Intent::kStudentLoan},
    {"business", Intent::kSmallBusiness},
    {"sole trader", Intent::kSmallBusiness},
    {"card machine", Intent::kSmallBusiness},
    {"fraud", Intent::kFraudConcern},
    {"lost card", Intent::kFraudConcern},
    {"scam", Intent::kFraudConcern},
    {"freeze", Intent::kFraudConcern},
    {"unknown transaction", Intent::kFraudConcern},
};

bool PrefixMatch(std::string_view path, std::string_view prefix) {
  return path.substr(0, prefix.size()) == prefix &&
         (path.size() == prefix.size() || path[prefix.size()] == '/');
}

}  // namespace

std::optional<Intent> IntentOfPath(std::string_view url_path) {
  const std::string category = ingest::CategoryFromPath(url_path);
  std::optional<Intent> best;
  size_t best_len = 0;
  for (const auto& [prefix, intent] : kPathRules) {
    if (prefix.size() > best_len && PrefixMatch(category, prefix)) {
      best = intent;
      best_len = prefix.size();
    }
  }
  return best;
}

std::optional<Intent> IntentOfScreen(std::string_view screen) {
  const size_t slash = screen.find('/');
  if (slash != std::string_view::npos) {
    const std::string_view head = screen.substr(0, slash);
    const std::string_view slug = screen.substr(slash + 1);
    if (head == "products" || head == "offers" || head == "apply") {
      for (const auto& spec : sim::Intents()) {
        if (spec.slug == slug) return spec.intent;
      }
    }
  }
  static constexpr std::pair<std::string_view, Intent> kScreens[] = {
      {"mortgages/calculator", Intent::kHomeBuying},
      {"mortgages/my-mortgage", Intent::kRefinancing},
      {"credit-score", Intent::kBuildingCredit},
      {"savings/goals", Intent::kEmergencySavings},
      {"investments/portfolio", Intent::kRetirementInvesting},
      {"loans/calculator", Intent::kAutoLoan},
      {"cards/freeze", Intent::kFraudConcern},
      {"security/alerts", Intent::kFraudConcern},
      {"help/fraud", Intent::kFraudConcern},
  };
  for (const auto& [name, intent] : kScreens) {
    if (screen == name) return intent;
  }
  return std::nullopt;
}

std::optional<Intent> IntentOfQuery(std::string_view query) {
  std::string q(query);
  std::transform(q.begin(), q.end(), q.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [word, intent] : kQueryRules) {
    if (q.find(word) != std::string::npos) return intent;
  }
  return std::nullopt;
}

}  // namespace intentstream::eval
