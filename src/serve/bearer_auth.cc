#include "serve/bearer_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cctype>
#include <stdexcept>

namespace intentstream::serve {

namespace {

std::array<unsigned char, 32> Sha256(std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  return out;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

BearerAuth::BearerAuth(std::string_view token) : enabled_(!token.empty()) {
  if (enabled_) digest_ = Sha256(token);
}

BearerAuth::Outcome BearerAuth::Check(std::string_view authorization) const {
  if (!enabled_) return Outcome::kAllowed;
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !IsSpace(authorization[kScheme.size()])) {
    return Outcome::kMissing;
  }
  for (size_t i = 0; i < kScheme.size(); ++i) {  // the scheme is case-insensitive
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return Outcome::kMissing;
    }
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && IsSpace(token.front())) token.remove_prefix(1);
  while (!token.empty() && IsSpace(token.back())) token.remove_suffix(1);
  if (token.empty()) return Outcome::kMissing;
  const auto presented = Sha256(token);
  return CRYPTO_memcmp(presented.data(), digest_.data(), digest_.size()) == 0 ? Outcome::kAllowed
                                                                              : Outcome::kWrong;
}

}  // namespace intentstream::serve
