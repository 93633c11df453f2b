#include "state/changelog.h"

#include <cstdio>

#include "common/hash.h"

namespace intentstream::state {

namespace {

int32_t Of(std::string_view id, int32_t partitions) {
  return KafkaMurmur2Partition(id, partitions);
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "<digits>" at the start of `s`, or -1.
int32_t LeadingNumber(std::string_view s) {
  int64_t n = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9' && i < 10; ++i) n = n * 10 + (s[i] - '0');
  return i == 0 ? -1 : static_cast<int32_t>(n);
}

// The partition named by a meta key, -1 when the key is local bookkeeping.
int32_t MetaPartition(std::string_view key) {
  if (StartsWith(key, "offset/")) {  // offset/<topic>/<partition>
    const auto slash = key.rfind('/');
    return LeadingNumber(key.substr(slash + 1));
  }
  if (StartsWith(key, "task/")) return LeadingNumber(key.substr(5));  // task/<p>/<name>
  if (StartsWith(key, "value/watermark/")) {  // value/watermark/<receiver>/<sender>
    return LeadingNumber(key.substr(16));
  }
  return -1;
}

}  // namespace

const std::vector<Cf>& ChangelogStores() {
  static const std::vector<Cf> stores = {Cf::kSessions,  Cf::kIdentity, Cf::kProfiles, Cf::kOffers,
                                         Cf::kDecisions, Cf::kDedup,    Cf::kMeta};
  return stores;
}

std::string ChangelogTopic(std::string_view group_id, Cf cf) {
  return std::string(group_id) + "-" + std::string(CfName(cf)) + "-changelog";
}

int32_t ChangelogPartition(Cf cf, std::string_view key, int32_t partitions) {
  if (partitions <= 0) return -1;
  int32_t p = -1;
  switch (cf) {
    case Cf::kSessions:  // a/<anonymous>, c/<customer>
      if (StartsWith(key, "a/") || StartsWith(key, "c/")) p = Of(key.substr(2), partitions);
      break;
    case Cf::kIdentity:
      if (StartsWith(key, "a/")) {
        p = Of(key.substr(2), partitions);
      } else if (StartsWith(key, "c/")) {
        // c/<customer>/<anonymous>: written by the anonymous id's task with its a/ link.
        const auto slash = key.find('/', 2);
        if (slash != std::string_view::npos) p = Of(key.substr(slash + 1), partitions);
      }
      break;
    case Cf::kProfiles:  // <customer>
      p = Of(key, partitions);
      break;
    case Cf::kOffers:  // c/<customer>, erased/<customer>
      if (StartsWith(key, "c/")) p = Of(key.substr(2), partitions);
      if (StartsWith(key, "erased/")) p = Of(key.substr(7), partitions);
      break;
    case Cf::kDecisions: {  // c/<customer>/<placement>
      const auto slash = key.rfind('/');
      if (StartsWith(key, "c/") && slash > 2) p = Of(key.substr(2, slash - 2), partitions);
      break;
    }
    case Cf::kMeta:
      p = MetaPartition(key);
      break;
    case Cf::kDedup:
    case Cf::kCount:
      break;
  }
  return p >= 0 && p < partitions ? p : -1;
}

std::string ChangelogPositionKey(Cf cf, int32_t partition) {
  char part[16];
  std::snprintf(part, sizeof part, "%05d", partition);
  return "changelog/" + std::string(CfName(cf)) + "/" + part;
}

}  // namespace intentstream::state
