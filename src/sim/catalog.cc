#include "sim/catalog.h"

#include <nlohmann/json.hpp>

#include <sstream>
#include <stdexcept>

#include "catalog/catalog.h"
#include "common/jsonl.h"

namespace intentstream::sim {

std::string_view EmbeddedWorldFile(std::string_view name);  // generated

namespace {

constexpr std::array<std::string_view, kIntentCount> kIntentIds = {
    "home_buying",     "refinancing",       "travel_rewards",       "balance_transfer",
    "building_credit", "emergency_savings", "retirement_investing", "auto_loan",
    "student_loan",    "small_business",    "fraud_concern",        "everyday_servicing"};

// The generator's intents: content (pages, queries, screens, the tile's offer and
// product) from the bank's catalogue (models/catalog), behaviour (popularity, episode
// length, which offer the bank's own policy shows for it) from models/world/intents.jsonl.
// Both are compiled in, so a world depends only on the generator's options.
std::array<IntentSpec, kIntentCount> BuildIntents() {
  const auto cat = catalog::DefaultCatalog();  // lives as long as the process
  std::array<IntentSpec, kIntentCount> out{};
  std::array<bool, kIntentCount> have_world{};
  std::istringstream world{std::string(EmbeddedWorldFile("intents.jsonl"))};
  jsonl::LineReader lines(world);
  for (std::string_view line; lines.Next(&line);) {
    const auto where = "models/world/intents.jsonl:" + std::to_string(lines.line());
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw std::logic_error(where + ": not a JSON object");
    const std::string id = j.value("intent", "");
    size_t k = 0;
    while (k < kIntentCount && kIntentIds[k] != id) ++k;
    if (k == kIntentCount) throw std::logic_error(where + ": unknown intent '" + id + "'");
    const int ci = cat->FindIntent(id);
    const int co = cat->FindOffer(j.value("tile_offer", ""));
    if (ci < 0 || co < 0) {
      throw std::logic_error(where + ": intent or tile_offer missing from the catalogue");
    }
    const auto& intent = cat->intents()[static_cast<size_t>(ci)];
    const auto& offer = cat->offers()[static_cast<size_t>(co)];
    IntentSpec& spec = out[k];
    spec.intent = static_cast<Intent>(k);
    spec.name = intent.id;
    spec.tile_id = offer.tile;
    spec.offer_id = offer.id;
    if (offer.product >= 0) {
      const auto& product = cat->products()[static_cast<size_t>(offer.product)];
      spec.product_code = product.code;
      spec.credit_product = product.credit;
      spec.apply_path = product.apply_path;
    }
    spec.slug = intent.slug;
    spec.popularity = j.value("popularity", 0.0);
    spec.min_days = j.value("min_days", 1);
    spec.max_days = j.value("max_days", 1);
    for (const auto& s : intent.pages) spec.pages.push_back(s);
    for (const auto& s : intent.queries) spec.queries.push_back(s);
    for (const auto& s : intent.screens) spec.app_screens.push_back(s);
    have_world[k] = true;
  }
  for (size_t k = 0; k < kIntentCount; ++k) {
    if (!have_world[k]) {
      throw std::logic_error("models/world/intents.jsonl: no entry for intent '" +
                             std::string(kIntentIds[k]) + "'");
    }
  }
  return out;
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

std::optional<Intent> IntentFromOffer(std::string_view offer_id) {
  static const auto cat = catalog::DefaultCatalog();  // immutable, like Intents()
  const int o = cat->FindOffer(offer_id);
  if (o < 0) return std::nullopt;
  const auto& offer = cat->offers()[static_cast<size_t>(o)];
  if (offer.intents.empty()) return std::nullopt;
  return IntentFromName(cat->intents()[static_cast<size_t>(offer.intents.front())].id);
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
