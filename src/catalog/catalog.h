// The bank's catalogue as data: the intent taxonomy, the products and the offers
// (ARCHITECTURE §5). The processor, the journey generator and the offline evaluation all
// read the same files, `models/catalog/`:
//
//   taxonomy.jsonl   one intent per line: id, name, description, marketing, slug,
//                    pages, queries, screens (examples of what the bank's site and app
//                    show for it), offers (ids serving it), blocks (suitability), and
//                    the rule teacher's settings: half_life_days, label_threshold,
//                    fulfilled_by, default_label (see Intent below)
//   products.jsonl   one product per line: code, name, kind, credit, sensitive,
//                    apply_path
//   offers.jsonl     one offer per line: id, name, product, tile, intents, value,
//                    priority, eligibility (catalog/expression.h), channels,
//                    fallback, headline, message (a template, see MessageTemplate)
//   documents.jsonl  (optional) product documents: id, title, url, product, passages
//                    [{id, kind, text}]: terms, rates, fees, limits, eligibility and risk
//                    warnings, the facts that grounded messages cite
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

  // How the taxonomy's rules read a session (decide/intent_rules.h), online and in the
  // rule teacher. All optional; the loader checks types and ranges.
  //
  // "half_life_days": how fast evidence of this intent fades, in days of event time:
  // a need that lasts weeks (buying a home) keeps its evidence longer than one that
  // lasts a day or two (a fraud worry). In (0, 365]. Default 7.
  double half_life_days = 7;
  // "label_threshold": the rule score from which a teacher labels a session with this
  // intent. In (0, 1). Default 0.7.
  double label_threshold = 0.7;
  // "fulfilled_by": product codes (products.jsonl) whose completed application meets
  // the need: evidence of this intent from before it no longer counts. Default none.
  std::vector<int> fulfilled_by;  // indexes into Catalog::products()
  // "default_label": the label of a session that shows no other intent (everyday
  // servicing). At most one intent has it. Default false.
  bool default_label = false;
};

struct Product {
  std::string code;
  std::string name;
  std::string kind;  // current_account, mortgage, credit_card, loan, savings, ...
  bool credit = false;
  bool sensitive = false;  // needs a confident signal before it is offered
  std::string apply_path;  // web application form, "" = none
};

// What a passage of a product document says. A risk warning is the required warning of
// a sensitive product: every message of an offer of that product carries it.
enum class PassageKind : uint8_t {
  kTerms,
  kRate,
  kFee,
  kLimit,
  kEligibility,
  kBenefit,
  kRiskWarning
};
std::string_view PassageKindName(PassageKind kind);  // "terms", ..., "risk_warning"

// A passage of a product document (grounding for messages).
struct Passage {
  std::string id;  // stable id, e.g. "DOC_CC_TRAVEL#fees"
  PassageKind kind = PassageKind::kTerms;
  std::string text;  // one or a few sentences; no citation markers
};
struct Document {
  std::string id;
  std::string title;
  std::string url;
  int product = -1;
  std::vector<Passage> passages;
};

// A passage by position: documents()[document].passages[passage].
struct PassageRef {
  int document = -1;
  int passage = -1;
  bool operator==(const PassageRef&) const = default;
};

// An offer's message template (offers.jsonl "message"), compiled at load. Text with
// placeholders:
//   {name} {headline} {product}   the offer's name, headline, its product's name
//   {intent}                      the name of the offer's intent the visitor scores
//                                 highest (its first intent when none scores)
//   {passage:DOC#id}              that passage, cited
//   {retrieved:DOC} {retrieved:DOC:N}
//                                 the N (default 1, at most 5) passages of document DOC
//                                 that best match the visitor (full-text retrieval),
//                                 cited; risk warnings are never retrieved
// Each passage becomes whole sentences, so text before a passage must end its sentence.
// Template text (with its fields filled in) must state no fact (message_text.h
// StatesFact): every fact comes from a cited passage. Risk warnings of a sensitive
// product are appended to every message of its offers, cited. Without "message" the
// template is "{headline}." followed by {retrieved:DOC:2} of the product's first
// document, if it has one.
struct TemplatePart {
  enum class Kind : uint8_t { kText, kName, kHeadline, kProduct, kIntent, kPassage, kRetrieved };
  Kind kind = Kind::kText;
  std::string text;    // kText
  PassageRef passage;  // kPassage: the passage; kRetrieved: .document only
  int count = 0;       // kRetrieved: passages to retrieve
};
struct MessageTemplate {
  std::string source;  // as written
  std::vector<TemplatePart> parts;
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
  MessageTemplate message;
  // Derived from the product.
  bool credit = false;
  bool sensitive = false;
  // Sensitive products: the risk warnings of the product's documents (at least one, or
  // the catalogue does not load).
  std::vector<PassageRef> risk_warnings;
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
  int FindDocument(std::string_view id) const;
  const Passage& passage(PassageRef ref) const {
    return documents_[static_cast<size_t>(ref.document)].passages[static_cast<size_t>(ref.passage)];
  }
  // The intent with "default_label": true, or -1.
  int default_intent() const { return default_intent_; }

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
  int default_intent_ = -1;
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
