// The bearer-token check of the data routes (RFC 6750, Authorization header form only).
// Only a SHA-256 digest of the token is kept, and digests are compared in constant time,
// so neither the token's bytes nor its length leak through response timing.
#pragma once

#include <array>
#include <string_view>

namespace intentstream::serve {

class BearerAuth {
 public:
  enum class Outcome {
    kAllowed,  // serve the request
    kMissing,  // no bearer credentials: 401 with a challenge
    kWrong,    // a bearer token that is not ours: 403
  };

  // An empty token disables the check: every request is allowed.
  explicit BearerAuth(std::string_view token);

  bool enabled() const { return enabled_; }
  // `authorization` is the Authorization header's value ("" when absent).
  Outcome Check(std::string_view authorization) const;

 private:
  bool enabled_;
  std::array<unsigned char, 32> digest_{};
};

}  // namespace intentstream::serve
