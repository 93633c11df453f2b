#include "catalog/message_template.h"

#include "catalog/message_text.h"

namespace intentstream::catalog {

namespace {

constexpr int kMaxRetrieved = 5;

using Kind = TemplatePart::Kind;

bool IsSlot(const TemplatePart& p) {
  return p.kind == Kind::kPassage || p.kind == Kind::kRetrieved;
}

bool EndsSentence(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s.empty() || s.back() == '.' || s.back() == '!' || s.back() == '?';
}

std::string Describe(const TemplatePart& p, const Catalog& cat) {
  const std::string doc = p.passage.document >= 0
                              ? cat.documents()[static_cast<size_t>(p.passage.document)].id
                              : std::string();
  if (p.kind == Kind::kPassage) return "{passage:" + cat.passage(p.passage).id + "}";
  return "{retrieved:" + doc + "}";
}

// One placeholder's inside ("name", "passage:DOC#id", ...) as a part.
std::optional<TemplatePart> ParsePlaceholder(std::string_view inside, const Catalog& cat,
                                             const Offer& offer, std::string* error) {
  TemplatePart part;
  if (inside == "name") {
    part.kind = Kind::kName;
  } else if (inside == "headline") {
    part.kind = Kind::kHeadline;
  } else if (inside == "product") {
    if (offer.product < 0) {
      *error = "{product} but the offer has no product";
      return std::nullopt;
    }
    part.kind = Kind::kProduct;
  } else if (inside == "intent") {
    if (offer.intents.empty()) {
      *error = "{intent} but the offer serves no intent";
      return std::nullopt;
    }
    part.kind = Kind::kIntent;
  } else if (inside.rfind("passage:", 0) == 0) {
    const std::string_view id = inside.substr(8);
    const size_t hash = id.find('#');
    const std::string doc(id.substr(0, hash));
    const int d = cat.FindDocument(doc);
    if (d < 0) {
      *error = "unknown document '" + doc + "' in {passage:" + std::string(id) + "}";
      return std::nullopt;
    }
    const auto& passages = cat.documents()[static_cast<size_t>(d)].passages;
    for (size_t i = 0; i < passages.size(); ++i) {
      if (passages[i].id == id) part.passage = {d, static_cast<int>(i)};
    }
    if (part.passage.passage < 0) {
      *error = "no passage '" + std::string(id) + "' in document '" + doc + "'";
      return std::nullopt;
    }
    part.kind = Kind::kPassage;
  } else if (inside.rfind("retrieved:", 0) == 0) {
    std::string_view spec = inside.substr(10);
    part.count = 1;
    if (const size_t colon = spec.find(':'); colon != std::string_view::npos) {
      const std::string_view n = spec.substr(colon + 1);
      if (n.size() != 1 || n[0] < '1' || n[0] > '0' + kMaxRetrieved) {
        *error = "{retrieved:" + std::string(spec) + "}: the count must be 1.." +
                 std::to_string(kMaxRetrieved);
        return std::nullopt;
      }
      part.count = n[0] - '0';
      spec = spec.substr(0, colon);
    }
    const int d = cat.FindDocument(spec);
    if (d < 0) {
      *error = "unknown document '" + std::string(spec) +
               "' in {retrieved:" + std::string(inside.substr(10)) + "}";
      return std::nullopt;
    }
    bool retrievable = false;
    for (const auto& p : cat.documents()[static_cast<size_t>(d)].passages) {
      retrievable = retrievable || p.kind != PassageKind::kRiskWarning;
    }
    if (!retrievable) {
      *error = "document '" + std::string(spec) + "' has only risk warnings, nothing to retrieve";
      return std::nullopt;
    }
    part.kind = Kind::kRetrieved;
    part.passage.document = d;
  } else {
    *error = "unknown placeholder {" + std::string(inside) +
             "} (name, headline, product, intent, passage:DOC#id, retrieved:DOC[:N])";
    return std::nullopt;
  }
  return part;
}

std::optional<std::vector<TemplatePart>> Parse(std::string_view source, const Catalog& cat,
                                               const Offer& offer, std::string* error) {
  std::vector<TemplatePart> parts;
  std::string text;
  auto flush_text = [&] {
    if (!text.empty()) parts.push_back({Kind::kText, std::move(text), {}, 0});
    text.clear();
  };
  for (size_t i = 0; i < source.size(); ++i) {
    const char c = source[i];
    if (c == '}') {
      *error = "'}' without '{' at position " + std::to_string(i + 1);
      return std::nullopt;
    }
    if (c != '{') {
      text.push_back(c);
      continue;
    }
    const size_t close = source.find('}', i + 1);
    const size_t reopen = source.find('{', i + 1);
    if (close == std::string_view::npos || (reopen != std::string_view::npos && reopen < close)) {
      *error = "unclosed '{' at position " + std::to_string(i + 1);
      return std::nullopt;
    }
    auto part = ParsePlaceholder(source.substr(i + 1, close - i - 1), cat, offer, error);
    if (!part) return std::nullopt;
    flush_text();
    parts.push_back(std::move(*part));
    i = close;
  }
  flush_text();
  return parts;
}

// The values a field can take for this offer.
std::vector<std::string> FieldValues(const TemplatePart& p, const Catalog& cat,
                                     const Offer& offer) {
  switch (p.kind) {
    case Kind::kName:
      return {offer.name};
    case Kind::kHeadline:
      return {offer.headline};
    case Kind::kProduct:
      return {cat.products()[static_cast<size_t>(offer.product)].name};
    case Kind::kIntent: {
      std::vector<std::string> names;
      for (int i : offer.intents) names.push_back(cat.intents()[static_cast<size_t>(i)].name);
      return names;
    }
    default:
      return {p.text};
  }
}

// Template text between passages (with every value its fields can take) must state no
// fact, and text right before a passage must end its sentence.
bool CheckText(const std::vector<TemplatePart>& parts, const Catalog& cat, const Offer& offer,
               std::string* error) {
  size_t i = 0;
  while (i < parts.size()) {
    if (IsSlot(parts[i])) {
      ++i;
      continue;
    }
    std::vector<std::string> expansions = {""};
    size_t j = i;
    for (; j < parts.size() && !IsSlot(parts[j]); ++j) {
      std::vector<std::string> next;
      for (const auto& prefix : expansions) {
        for (const auto& v : FieldValues(parts[j], cat, offer)) next.push_back(prefix + v);
      }
      expansions = std::move(next);
    }
    for (const auto& text : expansions) {
      for (const auto sentence : Sentences(text)) {
        if (StatesFact(sentence)) {
          *error = "the template text '" + std::string(sentence) +
                   "' states a fact (a number, an amount or a word such as rate, fee, limit, "
                   "eligible) outside a cited passage: put it in a document passage";
          return false;
        }
      }
      if (j < parts.size() && !EndsSentence(text)) {
        *error = "the text '" + text + "' before " + Describe(parts[j], cat) +
                 " must end its sentence with '.', '!' or '?'";
        return false;
      }
    }
    i = j;
  }
  return true;
}

}  // namespace

std::vector<PassageRef> RiskWarningsOf(const Catalog& catalog, int product) {
  std::vector<PassageRef> out;
  if (product < 0) return out;
  const auto& docs = catalog.documents();
  for (size_t d = 0; d < docs.size(); ++d) {
    if (docs[d].product != product) continue;
    for (size_t p = 0; p < docs[d].passages.size(); ++p) {
      if (docs[d].passages[p].kind == PassageKind::kRiskWarning) {
        out.push_back({static_cast<int>(d), static_cast<int>(p)});
      }
    }
  }
  return out;
}

std::optional<MessageTemplate> CompileMessageTemplate(const std::string& source,
                                                      const Catalog& catalog, const Offer& offer,
                                                      std::string* error) {
  MessageTemplate t;
  t.source = source;
  if (source.empty()) {
    // The default: the headline, then two retrieved facts of the product's first document.
    t.parts.push_back({Kind::kHeadline, {}, {}, 0});
    const std::string_view h = offer.headline;
    if (!EndsSentence(h)) t.parts.push_back({Kind::kText, ".", {}, 0});
    const auto& docs = catalog.documents();
    for (size_t d = 0; d < docs.size() && offer.product >= 0; ++d) {
      if (docs[d].product != offer.product) continue;
      bool retrievable = false;
      for (const auto& p : docs[d].passages) {
        retrievable = retrievable || p.kind != PassageKind::kRiskWarning;
      }
      if (!retrievable) continue;
      t.parts.push_back({Kind::kRetrieved, {}, {static_cast<int>(d), -1}, 2});
      break;
    }
  } else {
    auto parts = Parse(source, catalog, offer, error);
    if (!parts) return std::nullopt;
    t.parts = std::move(*parts);
  }
  if (!CheckText(t.parts, catalog, offer, error)) return std::nullopt;
  return t;
}

}  // namespace intentstream::catalog
