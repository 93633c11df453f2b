// Parses the catalogue's JSON-lines files (catalog.h) with nlohmann-json, strictly: an
// unknown field is an error (a misspelt "eligibilty" must not silently make an offer
// eligible for everyone), and every error names file, line, entry and field.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "catalog/catalog.h"
#include "common/hash.h"

namespace intentstream::catalog {

std::string_view EmbeddedCatalogFile(std::string_view name);  // generated

namespace {

using nlohmann::json;

// One JSON object of a JSON-lines file, with where it came from for error messages.
class Entry {
 public:
  Entry(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

  // Sets the entry's id for later messages ("offer 'OFR_X'").
  void Name(std::string_view kind, const std::string& id) {
    where_ += ": " + std::string(kind) + " '" + id + "'";
  }
  [[noreturn]] void Fail(std::string_view field, const std::string& msg) const {
    throw CatalogError(where_ + ": field '" + std::string(field) + "': " + msg);
  }
  [[noreturn]] void Fail(const std::string& msg) const { throw CatalogError(where_ + ": " + msg); }

  // Every field present must be one of `known`.
  void OnlyFields(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : j_.items()) {
      bool ok = false;
      for (auto k : known) ok = ok || k == key;
      if (!ok) Fail(key, "unknown field");
    }
  }

  std::string String(std::string_view field, bool required = true) const {
    const auto it = j_.find(field);
    if (it == j_.end()) {
      if (required) Fail(field, "missing");
      return {};
    }
    if (!it->is_string()) Fail(field, "must be a string");
    std::string s = it->get<std::string>();
    if (required && s.empty()) Fail(field, "is empty");
    return s;
  }
  std::vector<std::string> Strings(std::string_view field, bool required = true) const {
    const auto it = j_.find(field);
    if (it == j_.end()) {
      if (required) Fail(field, "missing");
      return {};
    }
    if (!it->is_array()) Fail(field, "must be a list of strings");
    std::vector<std::string> out;
    for (const auto& v : *it) {
      if (!v.is_string() || v.get<std::string>().empty()) {
        Fail(field, "must be a list of non-empty strings");
      }
      out.push_back(v.get<std::string>());
    }
    return out;
  }
  bool Bool(std::string_view field, bool def) const {
    const auto it = j_.find(field);
    if (it == j_.end()) return def;
    if (!it->is_boolean()) Fail(field, "must be true or false");
    return it->get<bool>();
  }
  double Number(std::string_view field, double min, double max) const {
    const auto it = j_.find(field);
    if (it == j_.end()) Fail(field, "missing");
    if (!it->is_number()) Fail(field, "must be a number");
    const double v = it->get<double>();
    if (!(v >= min && v <= max)) {
      Fail(field, "value " + it->dump() + " outside [" + Fmt(min) + ", " + Fmt(max) + "]");
    }
    return v;
  }
  const json& Raw(std::string_view field) const { return j_.at(field); }
  bool Has(std::string_view field) const { return j_.contains(field); }

 private:
  static std::string Fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }
  const json& j_;
  std::string where_;
};

// Calls fn(entry) for each non-blank line of a JSON-lines text.
template <typename Fn>
void ForEachEntry(const std::string& origin, std::string_view file, const std::string& text,
                  Fn fn) {
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = origin + "/" + std::string(file) + ":" + std::to_string(line_no);
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw CatalogError(where + ": not valid JSON");
    if (!j.is_object()) throw CatalogError(where + ": expected one JSON object per line");
    Entry e(j, where);
    fn(e);
  }
}

std::string Digest(std::initializer_list<const std::string*> parts) {
  std::string all;
  for (const auto* p : parts) {
    all += *p;
    all.push_back('\0');
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012llx",
                static_cast<unsigned long long>(Fnv1a64(all) & 0xffffffffffffull));
  return buf;
}

}  // namespace

std::string_view ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kHomeTile:
      return "home_tile";
    case Channel::kPush:
      return "push";
    case Channel::kEmail:
      return "email";
    case Channel::kInApp:
      return "in_app";
  }
  return "?";
}

std::optional<Channel> ChannelFromName(std::string_view name) {
  for (size_t i = 0; i < kChannelCount; ++i) {
    if (ChannelName(static_cast<Channel>(i)) == name) return static_cast<Channel>(i);
  }
  return std::nullopt;
}

std::string_view BlockName(Block block) {
  switch (block) {
    case Block::kCredit:
      return "credit";
    case Block::kSensitive:
      return "sensitive";
    case Block::kAllSales:
      return "all_sales";
  }
  return "?";
}

int Catalog::FindIntent(std::string_view id) const {
  for (size_t i = 0; i < intents_.size(); ++i) {
    if (intents_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}
int Catalog::FindProduct(std::string_view code) const {
  for (size_t i = 0; i < products_.size(); ++i) {
    if (products_[i].code == code) return static_cast<int>(i);
  }
  return -1;
}
int Catalog::FindOffer(std::string_view id) const {
  for (size_t i = 0; i < offers_.size(); ++i) {
    if (offers_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}
int Catalog::FindOfferByTile(std::string_view tile) const {
  for (size_t i = 0; i < offers_.size(); ++i) {
    if (!tile.empty() && offers_[i].tile == tile) return static_cast<int>(i);
  }
  return -1;
}

std::shared_ptr<const Catalog> ParseCatalog(const CatalogFiles& files) {
  auto cat = std::make_shared<Catalog>();
  cat->origin_ = files.origin;
  const std::string& origin = files.origin;

  // Products first: offers and expressions refer to them.
  std::set<std::string> seen;
  ForEachEntry(origin, "products.jsonl", files.products, [&](Entry& e) {
    e.OnlyFields({"code", "name", "kind", "credit", "sensitive", "apply_path"});
    Product p;
    p.code = e.String("code");
    e.Name("product", p.code);
    if (!seen.insert(p.code).second) e.Fail("code", "duplicate product code");
    p.name = e.String("name");
    p.kind = e.String("kind");
    p.credit = e.Bool("credit", false);
    p.sensitive = e.Bool("sensitive", false);
    p.apply_path = e.String("apply_path", false);
    cat->products_.push_back(std::move(p));
  });
  if (cat->products_.empty()) throw CatalogError(origin + "/products.jsonl: no products");

  // Offers need intents by id, intents list offers by id: read the taxonomy's ids first.
  std::vector<std::vector<std::string>> pending;  // each intent's offer ids
  seen.clear();
  ForEachEntry(origin, "taxonomy.jsonl", files.taxonomy, [&](Entry& e) {
    e.OnlyFields({"id", "name", "description", "marketing", "slug", "pages", "queries", "screens",
                  "offers", "blocks"});
    Intent in;
    in.id = e.String("id");
    e.Name("intent", in.id);
    if (!seen.insert(in.id).second) e.Fail("id", "duplicate intent id");
    in.name = e.String("name");
    in.description = e.String("description");
    if (!e.Has("marketing")) e.Fail("marketing", "missing (true or false)");
    in.marketing = e.Bool("marketing", false);
    in.slug = e.String("slug", false);
    in.pages = e.Strings("pages", false);
    in.queries = e.Strings("queries", false);
    in.screens = e.Strings("screens", false);
    for (const auto& b : e.Strings("blocks", false)) {
      if (b == "credit") {
        in.blocks.push_back(Block::kCredit);
      } else if (b == "sensitive") {
        in.blocks.push_back(Block::kSensitive);
      } else if (b == "all_sales") {
        in.blocks.push_back(Block::kAllSales);
      } else {
        e.Fail("blocks", "unknown block '" + b + "' (credit, sensitive, all_sales)");
      }
    }
    pending.push_back(e.Strings("offers"));
    cat->intents_.push_back(std::move(in));
  });
  if (cat->intents_.empty()) throw CatalogError(origin + "/taxonomy.jsonl: no intents");

  seen.clear();
  std::set<std::string> tiles;
  ForEachEntry(origin, "offers.jsonl", files.offers, [&](Entry& e) {
    e.OnlyFields({"id", "name", "headline", "product", "tile", "intents", "value", "priority",
                  "eligibility", "channels", "fallback"});
    Offer o;
    o.id = e.String("id");
    e.Name("offer", o.id);
    if (!seen.insert(o.id).second) e.Fail("id", "duplicate offer id");
    o.name = e.String("name");
    o.headline = e.Has("headline") ? e.String("headline") : o.name;
    o.tile = e.String("tile", false);
    if (!o.tile.empty() && !tiles.insert(o.tile).second) e.Fail("tile", "tile used twice");
    const std::string product = e.String("product", false);
    if (!product.empty()) {
      o.product = cat->FindProduct(product);
      if (o.product < 0) e.Fail("product", "unknown product '" + product + "'");
      o.credit = cat->products_[static_cast<size_t>(o.product)].credit;
      o.sensitive = cat->products_[static_cast<size_t>(o.product)].sensitive;
    }
    for (const auto& id : e.Strings("intents")) {
      const int i = cat->FindIntent(id);
      if (i < 0) e.Fail("intents", "unknown intent '" + id + "'");
      o.intents.push_back(i);
    }
    o.value = e.Number("value", 0, 1e9);
    o.priority = e.Number("priority", 0, 1);
    const std::string text = e.String("eligibility", false);
    std::string error;
    auto expr = Expression::Compile(
        text, [&](std::string_view code) { return cat->FindProduct(code) >= 0; }, &error);
    if (!expr) e.Fail("eligibility", error);
    o.eligibility = std::move(*expr);
    for (const auto& c : e.Strings("channels")) {
      const auto ch = ChannelFromName(c);
      if (!ch) e.Fail("channels", "unknown placement '" + c + "' (home_tile, push, email, in_app)");
      o.channels[static_cast<size_t>(*ch)] = true;
    }
    o.fallback = e.Bool("fallback", false);
    cat->offers_.push_back(std::move(o));
  });
  if (cat->offers_.empty()) throw CatalogError(origin + "/offers.jsonl: no offers");

  // Resolve each intent's offers now that they are known.
  for (size_t i = 0; i < cat->intents_.size(); ++i) {
    for (const auto& id : pending[i]) {
      const int o = cat->FindOffer(id);
      if (o < 0) {
        throw CatalogError(origin + "/taxonomy.jsonl: intent '" + cat->intents_[i].id +
                           "': field 'offers': unknown offer '" + id + "'");
      }
      cat->intents_[i].offers.push_back(o);
    }
  }
  bool any_fallback = false;
  for (const auto& o : cat->offers_) any_fallback = any_fallback || o.fallback;
  if (!any_fallback) {
    throw CatalogError(origin +
                       "/offers.jsonl: no offer has \"fallback\": true (a decision "
                       "needs something to show when the policy removes everything)");
  }

  seen.clear();
  ForEachEntry(origin, "documents.jsonl", files.documents, [&](Entry& e) {
    e.OnlyFields({"id", "title", "url", "product", "passages"});
    Document d;
    d.id = e.String("id");
    e.Name("document", d.id);
    if (!seen.insert(d.id).second) e.Fail("id", "duplicate document id");
    d.title = e.String("title");
    d.url = e.String("url", false);
    const std::string product = e.String("product", false);
    if (!product.empty()) {
      d.product = cat->FindProduct(product);
      if (d.product < 0) e.Fail("product", "unknown product '" + product + "'");
    }
    if (!e.Has("passages") || !e.Raw("passages").is_array() || e.Raw("passages").empty()) {
      e.Fail("passages", "must be a non-empty list of {\"id\", \"text\"}");
    }
    std::set<std::string> ids;
    for (const auto& p : e.Raw("passages")) {
      if (!p.is_object() || !p.contains("id") || !p.contains("text") || !p["id"].is_string() ||
          !p["text"].is_string() || p.size() != 2) {
        e.Fail("passages", "each passage is {\"id\": string, \"text\": string}");
      }
      Passage passage{d.id + "#" + p["id"].get<std::string>(), p["text"].get<std::string>()};
      if (!ids.insert(passage.id).second) e.Fail("passages", "duplicate passage id " + passage.id);
      d.passages.push_back(std::move(passage));
    }
    cat->documents_.push_back(std::move(d));
  });

  cat->taxonomy_version_ = "tax-" + Digest({&files.taxonomy});
  cat->version_ =
      "cat-" + Digest({&files.taxonomy, &files.products, &files.offers, &files.documents});
  return cat;
}

std::shared_ptr<const Catalog> LoadCatalog(const std::string& dir) {
  CatalogFiles files;
  files.origin = dir;
  auto read = [&](const char* name, bool required, std::string* out) {
    const auto path = std::filesystem::path(dir) / name;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      if (!required) return;
      throw CatalogError(path.string() + ": cannot read");
    }
    std::ostringstream s;
    s << in.rdbuf();
    *out = s.str();
  };
  read("taxonomy.jsonl", true, &files.taxonomy);
  read("products.jsonl", true, &files.products);
  read("offers.jsonl", true, &files.offers);
  read("documents.jsonl", false, &files.documents);
  return ParseCatalog(files);
}

CatalogFiles BuiltInCatalogFiles() {
  CatalogFiles f;
  f.origin = "built-in";
  f.taxonomy = std::string(EmbeddedCatalogFile("taxonomy.jsonl"));
  f.products = std::string(EmbeddedCatalogFile("products.jsonl"));
  f.offers = std::string(EmbeddedCatalogFile("offers.jsonl"));
  f.documents = std::string(EmbeddedCatalogFile("documents.jsonl"));
  return f;
}

std::shared_ptr<const Catalog> DefaultCatalog() {
  // Parsed once: immutable and shared by everything in the process.
  static const std::shared_ptr<const Catalog> catalog = ParseCatalog(BuiltInCatalogFiles());
  return catalog;
}

}  // namespace intentstream::catalog
