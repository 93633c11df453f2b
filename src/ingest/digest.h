// SHA-256 of a byte string (OpenSSL's libcrypto), for dead letters that keep only the
// first bytes of a payload: the digest identifies the whole original.
#pragma once

#include <string>
#include <string_view>

namespace intentstream::ingest {

// Lower-case hex, 64 characters. Throws std::runtime_error if libcrypto fails (it does
// not for SHA-256 short of running out of memory).
std::string Sha256Hex(std::string_view bytes);

}  // namespace intentstream::ingest
