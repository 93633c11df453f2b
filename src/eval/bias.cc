#include "eval/bias.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

namespace intentstream::eval {

std::vector<BiasRow> BiasCheck(const std::vector<Exposure>& exposures, const BiasOptions& options) {
  std::map<std::string, size_t> points;  // by group
  std::set<std::string> offers;
  struct Counts {
    size_t shown = 0, impressions = 0, accepted = 0;
  };
  std::map<std::pair<std::string, std::string>, Counts> by;  // (offer, group)
  for (const auto& e : exposures) {
    ++points[e.group];
    for (const auto& o : e.shown) {
      offers.insert(o);
      auto& c = by[{o, e.group}];
      ++c.shown;
      for (const auto& [logged, clicked] : e.logged) {
        if (logged != o) continue;
        ++c.impressions;
        c.accepted += clicked ? 1 : 0;
        break;
      }
    }
  }
  std::vector<BiasRow> rows;
  for (const auto& offer : offers) {
    const size_t first = rows.size();
    double best_show = 0, best_accept = 0;
    size_t shown_in_all = 0;
    for (const auto& [group, n] : points) {
      if (by.count({offer, group})) shown_in_all += by.at({offer, group}).shown;
    }
    for (const auto& [group, n] : points) {
      const Counts c = by.count({offer, group}) ? by.at({offer, group}) : Counts{};
      BiasRow r;
      r.offer = offer;
      r.group = group;
      r.points = n;
      r.shown = c.shown;
      r.show_rate = n > 0 ? static_cast<double>(c.shown) / static_cast<double>(n) : 0;
      r.impressions = c.impressions;
      r.accepted = c.accepted;
      r.accept_rate = c.impressions > 0
                          ? static_cast<double>(c.accepted) / static_cast<double>(c.impressions)
                          : 0;
      if (n >= options.min_points) best_show = std::max(best_show, r.show_rate);
      if (c.impressions >= options.min_impressions) {
        best_accept = std::max(best_accept, r.accept_rate);
      }
      rows.push_back(r);
    }
    for (size_t i = first; i < rows.size(); ++i) {
      auto& r = rows[i];
      if (r.points >= options.min_points && best_show > 0 && shown_in_all >= options.min_shown) {
        r.show_ratio = r.show_rate / best_show;
        r.show_flag = r.show_ratio < options.threshold;
      }
      if (r.impressions >= options.min_impressions && best_accept > 0) {
        r.accept_ratio = r.accept_rate / best_accept;
        r.accept_flag = r.accept_ratio < options.threshold;
      }
    }
  }
  return rows;
}

std::string FormatBias(const std::string& title, const std::vector<BiasRow>& rows,
                       const BiasOptions& options) {
  std::ostringstream out;
  char buf[256];
  out << "bias check: " << title << " (rate ratio to the best group; '<' marks a ratio under "
      << options.threshold << ", the four-fifths rule)\n";
  std::snprintf(buf, sizeof buf, "%-28s %-12s %7s %7s %8s %7s %7s %7s %8s %7s\n", "offer", "group",
                "points", "shown", "show", "ratio", "impr", "clicks", "accept", "ratio");
  out << buf << std::string(108, '-') << '\n';
  size_t flags = 0, judged = 0;
  auto ratio = [](double r, bool flag) {
    char b[16];
    if (r < 0) return std::string("    n/a");
    std::snprintf(b, sizeof b, "%6.3f%c", r, flag ? '<' : ' ');
    return std::string(b);
  };
  for (const auto& r : rows) {
    std::snprintf(buf, sizeof buf, "%-28s %-12s %7zu %7zu %8.4f %s %7zu %7zu %8.4f %s\n",
                  r.offer.c_str(), r.group.c_str(), r.points, r.shown, r.show_rate,
                  ratio(r.show_ratio, r.show_flag).c_str(), r.impressions, r.accepted,
                  r.accept_rate, ratio(r.accept_ratio, r.accept_flag).c_str());
    out << buf;
    flags += (r.show_flag ? 1 : 0) + (r.accept_flag ? 1 : 0);
    judged += (r.show_ratio >= 0 ? 1 : 0) + (r.accept_ratio >= 0 ? 1 : 0);
  }
  out << flags << " of " << judged << " judged ratios under " << options.threshold
      << " (n/a: fewer than " << options.min_points << " decision points or "
      << options.min_impressions << " impressions in the group, or the offer shown fewer than "
      << options.min_shown << " times)\n";
  return out.str();
}

std::string GroupAt(const Dataset& data, const std::string& customer_id, int64_t time_ms) {
  const auto it = data.profiles.find(customer_id);
  if (it == data.profiles.end()) return "unknown";
  const v1::CustomerProfile* latest = nullptr;
  for (const auto& p : it->second) {
    const int64_t t = p.updated_time().seconds() * 1000 + p.updated_time().nanos() / 1'000'000;
    if (t <= time_ms || latest == nullptr) latest = &p;
  }
  const std::string& g = latest->monitoring().gender();
  return g.empty() ? "unknown" : g;
}

}  // namespace intentstream::eval
