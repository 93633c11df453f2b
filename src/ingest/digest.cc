#include "ingest/digest.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace intentstream::ingest {

std::string Sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &md_len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed (libcrypto)");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(size_t{md_len} * 2, '0');
  for (unsigned int i = 0; i < md_len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 0xf];
  }
  return out;
}

}  // namespace intentstream::ingest
