// Fuzz target: the catalogue loader (catalog/catalog.h) and its eligibility expressions.
// The input is up to four files separated by a 0x00 byte: taxonomy, products, offers,
// documents (missing parts are taken from the built-in catalogue, so most inputs reach
// the cross-checks). The first part is also compiled and evaluated as one expression.
//
// Invariants: a bad file is a CatalogError (never another exception or a crash); a
// catalogue that loads is self-consistent (every index it hands out is in range) and
// evaluating its rules on any profile never crashes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "fuzz_check.h"

namespace {

void CheckConsistent(const intentstream::catalog::Catalog& c) {
  const auto n_intents = c.intents().size(), n_offers = c.offers().size(),
             n_products = c.products().size();
  for (const auto& i : c.intents()) {
    for (int o : i.offers) FUZZ_CHECK(o >= 0 && static_cast<size_t>(o) < n_offers, i.id);
  }
  intentstream::v1::CustomerProfile p;
  p.set_age_band(intentstream::v1::AGE_BAND_25_34);
  p.set_credit_grade(4);
  p.add_products_held("CURRENT_ACCOUNT");
  for (const auto& o : c.offers()) {
    FUZZ_CHECK(o.product < static_cast<int>(n_products), o.id);
    for (int i : o.intents) FUZZ_CHECK(i >= 0 && static_cast<size_t>(i) < n_intents, o.id);
    (void)o.eligibility.Evaluate(&p);
    (void)o.eligibility.Evaluate(nullptr);
    FUZZ_CHECK(c.FindOffer(o.id) >= 0, o.id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace intentstream::catalog;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= input.size() && parts.size() < 4; ++i) {
    if (i == input.size() || input[i] == '\0') {
      parts.emplace_back(input.substr(start, i - start));
      start = i + 1;
    }
  }
  // One expression, on its own.
  std::string error;
  const auto expr = Expression::Compile(
      parts.empty() ? std::string() : parts[0].substr(0, 4096),
      [](std::string_view code) { return code == "CURRENT_ACCOUNT"; }, &error);
  if (expr) {
    intentstream::v1::CustomerProfile p;
    p.set_income_band(intentstream::v1::INCOME_BAND_LOW);
    (void)expr->Evaluate(&p);
    (void)expr->Evaluate(nullptr);
  } else {
    FUZZ_CHECK(!error.empty(), "a rejected expression says why");
  }
  // The files.
  CatalogFiles files = BuiltInCatalogFiles();
  files.origin = "fuzz";
  if (parts.size() > 0) files.taxonomy = parts[0];
  if (parts.size() > 1) files.products = parts[1];
  if (parts.size() > 2) files.offers = parts[2];
  if (parts.size() > 3) files.documents = parts[3];
  try {
    CheckConsistent(*ParseCatalog(files));
  } catch (const CatalogError& e) {
    FUZZ_CHECK(std::string_view(e.what()).find("fuzz/") == 0, e.what());
  }
  return 0;
}
