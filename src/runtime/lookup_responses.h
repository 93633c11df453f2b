// Small helpers shared by the interactive-query handlers (/v1/visitors, /v1/decisions).
#pragma once

#include <algorithm>
#include <string>

#include "serve/http_server.h"

namespace intentstream::runtime {

inline serve::HttpResponse JsonResponse(int status, std::string body) {
  return serve::HttpResponse{status, "application/json", std::move(body)};
}

// {"error": message<extra>} where `extra` is more JSON members (",\"k\":v").
inline serve::HttpResponse JsonError(int status, const std::string& message,
                                     const std::string& extra = "") {
  return JsonResponse(status, "{\"error\":" + serve::JsonQuote(message) + extra + "}");
}

// The value of `name` in a raw query string ("a=1&type=customer"); "" when absent.
inline std::string QueryParam(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    const size_t end = std::min(query.find('&', pos), query.size());
    const std::string pair = query.substr(pos, end - pos);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string::npos ? "" : pair.substr(eq + 1);
    pos = end + 1;
  }
  return "";
}

// An id from a path segment: non-empty, at most `max_bytes`, no '/' or control
// characters. Returns "" when valid, else the reason.
inline std::string CheckPathId(const std::string& id, size_t max_bytes, const char* what) {
  if (id.empty()) return std::string(what) + " id is missing";
  if (id.size() > max_bytes) return std::string(what) + " id is longer than the id limit";
  for (char c : id) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20) {
      return std::string(what) + " id contains '/' or a control character";
    }
  }
  return "";
}

}  // namespace intentstream::runtime
