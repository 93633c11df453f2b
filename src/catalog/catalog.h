// The bank's catalogue as data: the intent taxonomy, the products and the offers
// (ARCHITECTURE §5). The processor, the journey generator and the offline evaluation all
// read the same files, `models/catalog/`:
//
//   taxonomy.jsonl   one intent per line: id, name, description, marketing, slug,
//                    pages, queries, screens (examples of what the bank's site and app
//                    show for it), offers (ids serving it), blocks (suitability)
//   products.jsonl   one product per line: code, name, kind, credit, sensitive,
//                    apply_path
//   offers.jsonl     one offer per line: id, name, product, tile, intents, value,
//                    priority, eligibility (catalog/expression.h), channels,
//                    fallback, headline
//   documents.jsonl  (optional) product documents with passages, for grounded messages
//
// Every file is versioned by digest: `version()` names the whole catalogue,
// `taxonomy_version()` the taxonomy alone; both go into every decision. A broken file
// fails the load with a CatalogError naming the file, the line, the entry's id and the
// field (and the position inside an expression).
//
// The built-in catalogue (DefaultCatalog) is a copy of models/catalog compiled into the
// binary, so tools and tests run from any directory; LoadCatalog(dir) reads a
// directory, which the processor can reload without a restart.
//
// Thread-safety: a loaded Catalog is immutable; share it as shared_ptr<const Catalog>.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/expression.h"

namespace intentstream::catalog {

class CatalogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where an offer can be shown (placements) and which channel a contact goes through.
enum class Channel : uint8_t { kHomeTile = 0, kPush, kEmail, kInApp };
inline constexpr size_t kChannelCount = 4;
std::string_view ChannelName(Channel channel);  // "home_tile", "push", "email", "in_app"
std::optional<Channel> ChannelFromName(std::string_view name);

// Kinds of offers an active intent can make unsuitable (taxonomy `blocks`).
enum class Block : uint8_t { kCredit, kSensitive, kAllSales };
std::string_view BlockName(Block block);

struct Intent {
  std::string id;  // taxonomy id, e.g. "home_buying"
  std::string name;
  std::string description;
  bool marketing = false;  // false: never a marketing trigger (fraud concern, servicing)
  std::string slug;        // app content area ("products/<slug>", "offers/<slug>")
  std::vector<std::string> pages, queries, screens;
  std::vector<int> offers;    // indexes into Catalog::offers()
  std::vector<Block> blocks;  // while this intent is active, such offers are removed
};

struct Product {
  std::string code;
  std::string name;
  std::string kind;  // current_account, mortgage, credit_card, loan, savings, ...
  bool credit = false;
  bool sensitive = false;  // needs a confident signal before it is offered
  std::string apply_path;  // web application form, "" = none
};

struct Offer {
  std::string id;
  std::string name;
  std::string headline;
  std::string tile;          // homepage tile id the app shows it with
  int product = -1;          // index into Catalog::products(); -1 = a service offer
  std::vector<int> intents;  // indexes into Catalog::intents() (applicability)
  double value = 0;          // business value of an acceptance (arbitration's V)
  double priority = 0;       // static priority in [0, 1]: the holdout's ranking
  Expression eligibility;
  std::array<bool, kChannelCount> channels{};
  bool fallback = false;  // shown when nothing else survives the policy
  // Derived from the product.
  bool credit = false;
  bool sensitive = false;
};

// A passage of a product document (grounding for messages).
struct Passage {
  std::string id;  // stable id, e.g. "DOC_CC_TRAVEL#fees"
  std::string text;
};
struct Document {
  std::string id;
  std::string title;
  std::string url;
  int product = -1;
  std::vector<Passage> passages;
};

// The raw files of a catalogue (what LoadCatalog reads), for tests and the fuzzer.
struct CatalogFiles {
  std::string origin;  // directory, or "built-in"
  std::string taxonomy, products, offers, documents;
};

class Catalog {
 public:
  const std::vector<Intent>& intents() const { return intents_; }
  const std::vector<Product>& products() const { return products_; }
  const std::vector<Offer>& offers() const { return offers_; }
  const std::vector<Document>& documents() const { return documents_; }

  // Index or -1.
  int FindIntent(std::string_view id) const;
  int FindProduct(std::string_view code) const;
  int FindOffer(std::string_view id) const;
  int FindOfferByTile(std::string_view tile) const;

  // "cat-" + 12 hex digits of the digest of all files; "tax-" + digest of the taxonomy.
  const std::string& version() const { return version_; }
  const std::string& taxonomy_version() const { return taxonomy_version_; }
  const std::string& origin() const { return origin_; }

 private:
  friend std::shared_ptr<const Catalog> ParseCatalog(const CatalogFiles& files);
  std::vector<Intent> intents_;
  std::vector<Product> products_;
  std::vector<Offer> offers_;
  std::vector<Document> documents_;
  std::string version_, taxonomy_version_, origin_;
};

// Parses and cross-checks the files. Throws CatalogError naming file, line and field.
std::shared_ptr<const Catalog> ParseCatalog(const CatalogFiles& files);
// Reads <dir>/{taxonomy,products,offers}.jsonl (and documents.jsonl if present).
// Throws CatalogError.
std::shared_ptr<const Catalog> LoadCatalog(const std::string& dir);
// The files of models/catalog as compiled into the binary.
CatalogFiles BuiltInCatalogFiles();
// The built-in catalogue, parsed once per process.
std::shared_ptr<const Catalog> DefaultCatalog();

}  // namespace intentstream::catalog
