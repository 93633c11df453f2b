#include "catalog/expression.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace intentstream::catalog {

namespace {

using Op = Expression::Instruction::Op;

// What a sub-expression yields, for type checking at compile time.
enum class Type : uint8_t { kBool, kNumber, kAgeBand, kIncomeBand, kRiskAppetite };

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kBool:
      return "a boolean";
    case Type::kNumber:
      return "a number";
    case Type::kAgeBand:
      return "an AgeBand";
    case Type::kIncomeBand:
      return "an IncomeBand";
    case Type::kRiskAppetite:
      return "a RiskAppetite";
  }
  return "?";
}

struct FieldInfo {
  std::string_view name;
  ProfileField field;
  Type type;
};
constexpr std::array<FieldInfo, 6> kFields = {{
    {"age_band", ProfileField::kAgeBand, Type::kAgeBand},
    {"income_band", ProfileField::kIncomeBand, Type::kIncomeBand},
    {"risk_appetite", ProfileField::kRiskAppetite, Type::kRiskAppetite},
    {"tenure_months", ProfileField::kTenureMonths, Type::kNumber},
    {"credit_grade", ProfileField::kCreditGrade, Type::kNumber},
    {"marketing_consent", ProfileField::kMarketingConsent, Type::kBool},
}};

enum class TokenKind : uint8_t { kEnd, kIdent, kNumber, kString, kOp, kLParen, kRParen, kComma };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;
  size_t pos = 0;  // 0-based offset
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  // Returns false and sets `error` on a character that starts no token.
  bool Next(Token* t, std::string* error) {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    t->pos = i_;
    if (i_ >= s_.size()) {
      t->kind = TokenKind::kEnd;
      t->text = {};
      return true;
    }
    const char c = s_[i_];
    auto take = [&](TokenKind k, size_t n) {
      t->kind = k;
      t->text = s_.substr(i_, n);
      i_ += n;
      return true;
    };
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i_;
      while (j < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_')) {
        ++j;
      }
      return take(TokenKind::kIdent, j - i_);
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i_;
      while (j < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[j])) || s_[j] == '.')) {
        ++j;
      }
      return take(TokenKind::kNumber, j - i_);
    }
    if (c == '\'' || c == '"') {
      const size_t close = s_.find(c, i_ + 1);
      if (close == std::string_view::npos) {
        *error = "position " + std::to_string(i_ + 1) + ": unterminated string";
        return false;
      }
      t->kind = TokenKind::kString;
      t->text = s_.substr(i_ + 1, close - i_ - 1);
      i_ = close + 1;
      return true;
    }
    if (c == '(') return take(TokenKind::kLParen, 1);
    if (c == ')') return take(TokenKind::kRParen, 1);
    if (c == ',') return take(TokenKind::kComma, 1);
    const std::string_view two = s_.substr(i_, 2);
    for (std::string_view op : {"==", "!=", "<=", ">=", "&&", "||"}) {
      if (two == op) return take(TokenKind::kOp, 2);
    }
    if (c == '<' || c == '>' || c == '!') return take(TokenKind::kOp, 1);
    *error =
        "position " + std::to_string(i_ + 1) + ": unexpected character '" + std::string(1, c) + "'";
    return false;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

// Recursive descent over the token stream, emitting postfix code.
class ExpressionCompiler {
 public:
  ExpressionCompiler(std::string_view text, const std::function<bool(std::string_view)>& known,
                     Expression* out, std::string* error)
      : lexer_(text), known_product_(known), out_(out), error_(error) {}

  bool Run() {
    if (!Advance()) return false;
    if (tok_.kind == TokenKind::kEnd) return true;  // empty: always true
    Type t;
    if (!Or(&t)) return false;
    if (tok_.kind != TokenKind::kEnd) return Fail("unexpected '" + std::string(tok_.text) + "'");
    if (t != Type::kBool)
      return Fail("the expression is " + std::string(TypeName(t)) + ", not a condition", 0);
    return true;
  }

 private:
  bool Fail(const std::string& msg) { return Fail(msg, tok_.pos + 1); }
  bool Fail(const std::string& msg, size_t column) {
    *error_ = (column > 0 ? "position " + std::to_string(column) + ": " : std::string()) + msg;
    return false;
  }
  bool Advance() { return lexer_.Next(&tok_, error_); }
  bool IsWord(std::string_view w) const { return tok_.kind == TokenKind::kIdent && tok_.text == w; }
  bool IsOp(std::string_view o) const { return tok_.kind == TokenKind::kOp && tok_.text == o; }
  void Emit(Expression::Instruction i) { out_->code_.push_back(i); }

  bool Or(Type* t) {
    if (!And(t)) return false;
    while (IsWord("or") || IsOp("||")) {
      const size_t at = tok_.pos + 1;
      if (!Advance()) return false;
      Type rhs;
      if (!And(&rhs)) return false;
      if (*t != Type::kBool || rhs != Type::kBool) return Fail("'or' needs two conditions", at);
      Emit({Op::kOr});
    }
    return true;
  }

  bool And(Type* t) {
    if (!Not(t)) return false;
    while (IsWord("and") || IsOp("&&")) {
      const size_t at = tok_.pos + 1;
      if (!Advance()) return false;
      Type rhs;
      if (!Not(&rhs)) return false;
      if (*t != Type::kBool || rhs != Type::kBool) return Fail("'and' needs two conditions", at);
      Emit({Op::kAnd});
    }
    return true;
  }

  bool Not(Type* t) {
    if (IsWord("not") || IsOp("!")) {
      const size_t at = tok_.pos + 1;
      if (!Advance()) return false;
      if (++depth_ > kMaxNesting) return Fail("expression nested too deeply", at);
      const bool ok = Not(t);
      --depth_;
      if (!ok) return false;
      if (*t != Type::kBool) return Fail("'not' needs a condition", at);
      Emit({Op::kNot});
      return true;
    }
    return Compare(t);
  }

  bool Compare(Type* t) {
    const size_t lhs_at = tok_.pos + 1;
    if (!Primary(t)) return false;
    static constexpr std::array<std::string_view, 6> kOps = {"==", "!=", "<", "<=", ">", ">="};
    for (uint8_t k = 0; k < kOps.size(); ++k) {
      if (!IsOp(kOps[k])) continue;
      const size_t at = tok_.pos + 1;
      if (!Advance()) return false;
      Type rhs;
      const size_t rhs_at = tok_.pos + 1;
      if (!Primary(&rhs)) return false;
      if (*t != rhs) {
        return Fail(
            "cannot compare " + std::string(TypeName(*t)) + " with " + std::string(TypeName(rhs)),
            rhs_at);
      }
      if (*t == Type::kBool && k > 1) return Fail("booleans compare only with == or !=", at);
      (void)lhs_at;
      Expression::Instruction i{Op::kCompare};
      i.cmp = k;
      Emit(i);
      *t = Type::kBool;
      return true;
    }
    return true;
  }

  bool Primary(Type* t) {
    switch (tok_.kind) {
      case TokenKind::kLParen: {
        if (++depth_ > kMaxNesting) return Fail("expression nested too deeply");
        const bool ok = Advance() && Or(t);
        --depth_;
        if (!ok) return false;
        if (tok_.kind != TokenKind::kRParen) return Fail("expected ')'");
        return Advance();
      }
      case TokenKind::kNumber: {
        double v = 0;
        const auto [ptr, ec] =
            std::from_chars(tok_.text.data(), tok_.text.data() + tok_.text.size(), v);
        if (ec != std::errc() || ptr != tok_.text.data() + tok_.text.size()) {
          return Fail("invalid number '" + std::string(tok_.text) + "'");
        }
        Expression::Instruction i{Op::kNumber};
        i.number = v;
        Emit(i);
        *t = Type::kNumber;
        return Advance();
      }
      case TokenKind::kString:
        return Fail("a string is allowed only as an argument of holds() or opted_out()");
      case TokenKind::kIdent:
        return Identifier(t);
      default:
        return Fail(tok_.kind == TokenKind::kEnd ? "unexpected end of expression"
                                                 : "unexpected '" + std::string(tok_.text) + "'");
    }
  }

  bool Identifier(Type* t) {
    const std::string name(tok_.text);
    const size_t at = tok_.pos + 1;
    if (name == "true" || name == "false") {
      Expression::Instruction i{Op::kBool};
      i.number = name == "true" ? 1 : 0;
      Emit(i);
      *t = Type::kBool;
      return Advance();
    }
    if (name == "holds" || name == "opted_out") return Function(name, t);
    for (const auto& f : kFields) {
      if (f.name == name) {
        Expression::Instruction i{Op::kField};
        i.field = f.field;
        Emit(i);
        out_->fields_used_ |= 1u << static_cast<unsigned>(f.field);
        *t = f.type;
        return Advance();
      }
    }
    // An enum constant of the profile's enums.
    struct EnumType {
      const google::protobuf::EnumDescriptor* d;
      Type type;
    };
    const EnumType enums[] = {{v1::AgeBand_descriptor(), Type::kAgeBand},
                              {v1::IncomeBand_descriptor(), Type::kIncomeBand},
                              {v1::RiskAppetite_descriptor(), Type::kRiskAppetite}};
    for (const auto& e : enums) {
      if (const auto* v = e.d->FindValueByName(name); v != nullptr) {
        if (v->number() == 0) return Fail(name + " means unknown; test a known value", at);
        Expression::Instruction i{Op::kNumber};
        i.number = v->number();
        Emit(i);
        *t = e.type;
        return Advance();
      }
    }
    if (name == "monitoring" || name == "gender") {
      return Fail("'" + name + "' is a protected attribute and cannot be used in a rule", at);
    }
    return Fail("unknown field or constant '" + name + "'", at);
  }

  bool Function(const std::string& name, Type* t) {
    const size_t at = tok_.pos + 1;
    if (!Advance()) return false;
    if (tok_.kind != TokenKind::kLParen) return Fail("expected '(' after " + name);
    if (!Advance()) return false;
    const auto first = static_cast<uint16_t>(out_->strings_.size());
    while (true) {
      if (tok_.kind != TokenKind::kString) return Fail(name + "() takes quoted strings");
      const std::string arg(tok_.text);
      if (name == "holds" && !known_product_(arg)) {
        return Fail("unknown product '" + arg + "' in holds()");
      }
      if (name == "opted_out" && arg.empty()) return Fail("opted_out() needs a channel name");
      out_->strings_.push_back(arg);
      if (!Advance()) return false;
      if (tok_.kind == TokenKind::kComma) {
        if (!Advance()) return false;
        continue;
      }
      if (tok_.kind == TokenKind::kRParen) break;
      return Fail("expected ',' or ')'");
    }
    const auto count = static_cast<uint16_t>(out_->strings_.size() - first);
    if (name == "opted_out" && count != 1) return Fail("opted_out() takes one channel", at);
    Expression::Instruction i{name == "holds" ? Op::kHolds : Op::kOptedOut};
    i.arg = first;
    i.count = count;
    i.field = name == "holds" ? ProfileField::kProductsHeld : ProfileField::kOptedOutChannels;
    out_->fields_used_ |= 1u << static_cast<unsigned>(i.field);
    Emit(i);
    *t = Type::kBool;
    return Advance();
  }

  // Bounds the parser's recursion and the evaluator's stack (Expression::Evaluate).
  static constexpr int kMaxNesting = 16;
  int depth_ = 0;
  Lexer lexer_;
  const std::function<bool(std::string_view)>& known_product_;
  Expression* out_;
  std::string* error_;
  Token tok_;
};

namespace {

struct Value {
  bool known = false;
  double number = 0;  // booleans: 0 or 1
};

Tri ToTri(const Value& v) {
  if (!v.known) return Tri::kUnknown;
  return v.number != 0 ? Tri::kTrue : Tri::kFalse;
}
Value FromTri(Tri t) {
  return t == Tri::kUnknown ? Value{} : Value{true, t == Tri::kTrue ? 1.0 : 0.0};
}

Value ReadField(const v1::CustomerProfile* p, ProfileField f) {
  if (p == nullptr) return {};
  switch (f) {
    case ProfileField::kAgeBand:
      return p->age_band() == 0 ? Value{} : Value{true, static_cast<double>(p->age_band())};
    case ProfileField::kIncomeBand:
      return p->income_band() == 0 ? Value{} : Value{true, static_cast<double>(p->income_band())};
    case ProfileField::kRiskAppetite:
      return p->risk_appetite() == 0 ? Value{}
                                     : Value{true, static_cast<double>(p->risk_appetite())};
    case ProfileField::kTenureMonths:
      return Value{true, static_cast<double>(p->tenure_months())};
    case ProfileField::kCreditGrade:
      return p->credit_grade() == 0 ? Value{} : Value{true, static_cast<double>(p->credit_grade())};
    case ProfileField::kMarketingConsent:
      return Value{true, p->marketing_consent() ? 1.0 : 0.0};
    case ProfileField::kProductsHeld:
    case ProfileField::kOptedOutChannels:
    case ProfileField::kCount:
      break;
  }
  return {};
}

}  // namespace

std::string_view ProfileFieldName(ProfileField field) {
  switch (field) {
    case ProfileField::kAgeBand:
      return "age_band";
    case ProfileField::kIncomeBand:
      return "income_band";
    case ProfileField::kRiskAppetite:
      return "risk_appetite";
    case ProfileField::kTenureMonths:
      return "tenure_months";
    case ProfileField::kCreditGrade:
      return "credit_grade";
    case ProfileField::kMarketingConsent:
      return "marketing_consent";
    case ProfileField::kProductsHeld:
      return "products_held";
    case ProfileField::kOptedOutChannels:
      return "opted_out_channels";
    case ProfileField::kCount:
      break;
  }
  return "?";
}

std::string MissingFieldNames(uint32_t mask) {
  std::string out;
  for (unsigned f = 0; f < static_cast<unsigned>(ProfileField::kCount); ++f) {
    if ((mask >> f) & 1u) {
      if (!out.empty()) out += ", ";
      out += ProfileFieldName(static_cast<ProfileField>(f));
    }
  }
  return out;
}

std::optional<Expression> Expression::Compile(
    std::string_view text, const std::function<bool(std::string_view)>& known_product,
    std::string* error) {
  Expression e;
  e.text_ = std::string(text);
  ExpressionCompiler c(text, known_product, &e, error);
  if (!c.Run()) return std::nullopt;
  // The evaluator's fixed stack: reject what would not fit (long chains of operands).
  size_t depth = 0, max_depth = 0;
  for (const Instruction& in : e.code_) {
    const bool binary = in.op == Op::kCompare || in.op == Op::kAnd || in.op == Op::kOr;
    if (in.op == Op::kNot) continue;
    depth = binary ? depth - 1 : depth + 1;
    max_depth = std::max(max_depth, depth);
  }
  if (max_depth > kMaxStack) {
    *error = "expression too long (" + std::to_string(e.code_.size()) + " terms)";
    return std::nullopt;
  }
  return e;
}

Tri Expression::Evaluate(const v1::CustomerProfile* profile, uint32_t* missing) const {
  if (code_.empty()) return Tri::kTrue;
  // Expressions are short (Compile bounds them); a fixed stack keeps evaluation
  // allocation-free.
  Value stack[kMaxStack];
  size_t top = 0;
  uint32_t missing_mask = 0;
  for (const Instruction& in : code_) {
    switch (in.op) {
      case Op::kField: {
        const Value v = ReadField(profile, in.field);
        if (!v.known) missing_mask |= 1u << static_cast<unsigned>(in.field);
        stack[top++] = v;
        break;
      }
      case Op::kNumber:
      case Op::kBool:
        stack[top++] = Value{true, in.number};
        break;
      case Op::kHolds:
      case Op::kOptedOut: {
        if (profile == nullptr) {
          missing_mask |= 1u << static_cast<unsigned>(in.field);
          stack[top++] = Value{};
          break;
        }
        const auto& list =
            in.op == Op::kHolds ? profile->products_held() : profile->opted_out_channels();
        bool any = false;
        for (uint16_t k = 0; k < in.count && !any; ++k) {
          const std::string& want = strings_[in.arg + k];
          any = std::find(list.begin(), list.end(), want) != list.end();
        }
        stack[top++] = Value{true, any ? 1.0 : 0.0};
        break;
      }
      case Op::kCompare: {
        const Value b = stack[--top];
        const Value a = stack[--top];
        if (!a.known || !b.known) {
          stack[top++] = Value{};
          break;
        }
        bool r = false;
        switch (in.cmp) {
          case 0:
            r = a.number == b.number;
            break;
          case 1:
            r = a.number != b.number;
            break;
          case 2:
            r = a.number < b.number;
            break;
          case 3:
            r = a.number <= b.number;
            break;
          case 4:
            r = a.number > b.number;
            break;
          default:
            r = a.number >= b.number;
            break;
        }
        stack[top++] = Value{true, r ? 1.0 : 0.0};
        break;
      }
      case Op::kNot: {
        const Tri t = ToTri(stack[top - 1]);
        stack[top - 1] = FromTri(t == Tri::kUnknown ? t
                                 : t == Tri::kTrue  ? Tri::kFalse
                                                    : Tri::kTrue);
        break;
      }
      case Op::kAnd:
      case Op::kOr: {
        const Tri b = ToTri(stack[--top]);
        const Tri a = ToTri(stack[--top]);
        Tri r;
        if (in.op == Op::kAnd) {
          r = (a == Tri::kFalse || b == Tri::kFalse) ? Tri::kFalse
              : (a == Tri::kTrue && b == Tri::kTrue) ? Tri::kTrue
                                                     : Tri::kUnknown;
        } else {
          r = (a == Tri::kTrue || b == Tri::kTrue)     ? Tri::kTrue
              : (a == Tri::kFalse && b == Tri::kFalse) ? Tri::kFalse
                                                       : Tri::kUnknown;
        }
        stack[top++] = FromTri(r);
        break;
      }
    }
  }
  const Tri result = ToTri(stack[0]);
  if (missing != nullptr) *missing = result == Tri::kUnknown ? missing_mask : 0;
  return result;
}

}  // namespace intentstream::catalog
