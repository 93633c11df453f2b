// The synthetic bank's content: the intent taxonomy, the homepage tiles (one offer
// per intent), the web pages, search queries and app screens each intent leads to.
// Data, not logic: the generator draws from it and the evaluation maps tiles and
// products back to intents with it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace intentstream::sim {

// Latent intents of the world. kEverydayServicing doubles as "no product intent".
enum class Intent : uint8_t {
  kHomeBuying,
  kRefinancing,
  kTravelRewards,
  kBalanceTransfer,
  kBuildingCredit,
  kEmergencySavings,
  kRetirementInvesting,
  kAutoLoan,
  kStudentLoan,
  kSmallBusiness,
  kFraudConcern,
  kEverydayServicing,
};
inline constexpr size_t kIntentCount = 12;

// Static description of one intent. Lists are ordered by popularity (the generator
// draws from them with a Zipf skew).
struct IntentSpec {
  Intent intent;
  std::string_view name;     // taxonomy id, e.g. "home_buying"
  std::string_view tile_id;  // homepage tile promoting the matching offer
  std::string_view offer_id;
  std::string_view product_code;  // what a conversion adds to products_held; "" = none
  std::string_view slug;          // used in app screen names, e.g. "products/<slug>"
  double popularity;              // relative weight when an episode starts
  int min_days;                   // episode length range, days
  int max_days;
  bool credit_product;                    // completion depends on the credit grade
  std::vector<std::string_view> pages;    // web paths (pre-login)
  std::vector<std::string_view> queries;  // site search texts
  std::vector<std::string_view> app_screens;
  std::string_view apply_path;  // web application form; "" = none
};

// All intents in enum order. Built once, immutable, safe to share across threads.
const std::array<IntentSpec, kIntentCount>& Intents();
const IntentSpec& Spec(Intent intent);
std::string_view IntentName(Intent intent);
std::optional<Intent> IntentFromName(std::string_view name);
// Intent whose tile has this id, if any.
std::optional<Intent> IntentFromTile(std::string_view tile_id);

// Intent an offer of the bank's catalogue serves (its first intent), if the catalogue
// has the offer and the intent is one of the world's.
std::optional<Intent> IntentFromOffer(std::string_view offer_id);

// Pages every visitor may see regardless of intent (home, login, legal, help).
const std::vector<std::string_view>& GeneralPages();
// Servicing queries typed by people with no product intent.
const std::vector<std::string_view>& ServicingQueries();
// What crawlers and scanners request.
const std::vector<std::string_view>& JunkPaths();

}  // namespace intentstream::sim
