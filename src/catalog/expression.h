// Eligibility expressions of the offer catalogue: a small, safe language over the
// structured fields of a customer's profile, compiled once at load and evaluated per
// decision without allocation.
//
//   not holds('MORTGAGE_FIXED') and age_band <= AGE_BAND_55_64
//   income_band >= INCOME_BAND_MIDDLE or tenure_months > 24
//
// Grammar: `or`/`||`, `and`/`&&`, `not`/`!`, comparisons (== != < <= > >=) between a
// field and a literal of its type, parentheses, and the functions holds('CODE', ...)
// (true when the customer holds any of the products) and opted_out('channel').
// Fields: age_band, income_band, risk_appetite (compared with their enum names from
// events.proto, e.g. AGE_BAND_25_34), tenure_months, credit_grade (numbers),
// marketing_consent (true/false). `CustomerProfile.monitoring` is not a field: the
// language cannot reach protected attributes.
//
// Logic is three-valued: a field the profile does not have (no profile, an enum left
// UNSPECIFIED, credit_grade 0 = unknown) is unknown; comparisons with unknown are
// unknown; `and`/`or` follow Kleene logic (false and unknown = false). A decision treats
// an unknown result as "not eligible" and says which fields were missing.
//
// Thread-safety: a compiled Expression is immutable.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "intentstream/v1/events.pb.h"

namespace intentstream::catalog {

enum class Tri : uint8_t { kFalse, kTrue, kUnknown };

// Fields an expression can read; the bit (1 << field) marks a missing one.
enum class ProfileField : uint8_t {
  kAgeBand,
  kIncomeBand,
  kRiskAppetite,
  kTenureMonths,
  kCreditGrade,
  kMarketingConsent,
  kProductsHeld,
  kOptedOutChannels,
  kCount
};
std::string_view ProfileFieldName(ProfileField field);
// "age_band, credit_grade" for a mask of missing fields.
std::string MissingFieldNames(uint32_t mask);

class Expression {
 public:
  // An empty expression: always true.
  Expression() = default;

  // Compiles `text`. `known_product` says whether a product code exists (holds() of an
  // unknown product is an error: a typo would silently make every customer eligible).
  // On error returns nullopt and sets `error` to "position N: ..." (1-based column).
  static std::optional<Expression> Compile(
      std::string_view text, const std::function<bool(std::string_view)>& known_product,
      std::string* error);

  // `profile` may be null (no profile: every field unknown). When the result is
  // unknown, `missing` (if given) gets the fields that made it so.
  Tri Evaluate(const v1::CustomerProfile* profile, uint32_t* missing = nullptr) const;

  const std::string& text() const { return text_; }
  bool always_true() const { return code_.empty(); }
  // Bit mask of the fields the expression reads (for reason codes).
  uint32_t fields_used() const { return fields_used_; }

  // Most operands an expression may stack up (Compile rejects longer ones).
  static constexpr size_t kMaxStack = 64;

  // Compiled form, public for the evaluator's helpers: postfix instructions.
  struct Instruction {
    enum class Op : uint8_t {
      kField,     // push field `field`
      kNumber,    // push number
      kBool,      // push bool
      kHolds,     // push holds(strings[arg .. arg + count))
      kOptedOut,  // push opted_out(strings[arg])
      kCompare,   // pop b, a; push a <cmp> b
      kNot,
      kAnd,
      kOr,
    };
    Op op;
    uint8_t cmp = 0;  // kCompare: 0 ==, 1 !=, 2 <, 3 <=, 4 >, 5 >=
    ProfileField field = ProfileField::kCount;
    double number = 0;
    uint16_t arg = 0, count = 0;
  };

 private:
  friend class ExpressionCompiler;
  std::string text_;
  std::vector<Instruction> code_;
  std::vector<std::string> strings_;
  uint32_t fields_used_ = 0;
};

}  // namespace intentstream::catalog
