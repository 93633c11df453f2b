#include "eval/closed_loop_report.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "common/csv.h"
#include "intentstream/v1/decisions.pb.h"
#include "sim/catalog.h"
#include "sim/random.h"

namespace intentstream::eval {

namespace {

namespace fs = std::filesystem;
constexpr int64_t kDayMs = 86'400'000;

std::string Fixed(double v, int digits) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, digits);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::string("nan");
}

std::string Show(const Interval& i, int digits) {
  return Fixed(i.value, digits) + " [" + Fixed(i.low, digits) + ", " + Fixed(i.high, digits) + "]";
}

// Reads a CSV with a header; `row` gets each record's fields by column name.
std::string ReadTable(const fs::path& path,
                      const std::function<std::string(const std::map<std::string, size_t>&,
                                                      const csv::Record&)>& row) {
  std::ifstream in(path);
  if (!in) return "cannot read " + path.string();
  csv::Reader reader(in);
  csv::Record record;
  std::string error;
  std::map<std::string, size_t> columns;
  bool header = true;
  for (;;) {
    const auto status = reader.Next(&record, &error);
    if (status == csv::Reader::Status::kEnd) break;
    if (status == csv::Reader::Status::kMalformed) {
      return path.string() + ":" + std::to_string(record.line) + ": " + error;
    }
    if (header) {
      for (size_t i = 0; i < record.fields.size(); ++i) columns[record.fields[i]] = i;
      header = false;
      continue;
    }
    if (record.fields.size() != columns.size()) {
      return path.string() + ":" + std::to_string(record.line) + ": expected " +
             std::to_string(columns.size()) + " fields, got " +
             std::to_string(record.fields.size());
    }
    if (std::string e = row(columns, record); !e.empty()) {
      return path.string() + ":" + std::to_string(record.line) + ": " + e;
    }
  }
  if (header) return path.string() + ": empty (no header)";
  return "";
}

// Field `name` of a record; throws std::out_of_range if the file lacks the column.
const std::string& Field(const std::map<std::string, size_t>& columns, const csv::Record& r,
                         const char* name) {
  return r.fields.at(columns.at(name));
}

template <typename T>
bool Parse(const std::string& s, T* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string ReadProperties(const fs::path& path, std::map<std::string, std::string>* out) {
  std::ifstream in(path);
  if (!in) return "cannot read " + path.string();
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq != std::string::npos) (*out)[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return "";
}

// What one customer did, summed over the world.
struct Customer {
  size_t visits = 0, impressions = 0, clicks = 0, dismissals = 0, applications = 0;
  size_t tile_conversions = 0, conversions = 0;
};

struct Sums {
  double customers = 0, impressions = 0, clicks = 0, dismissals = 0, tile_conversions = 0,
         conversions = 0;
  void Add(const Customer& c) {
    customers += 1;
    impressions += static_cast<double>(c.impressions);
    clicks += static_cast<double>(c.clicks);
    dismissals += static_cast<double>(c.dismissals);
    tile_conversions += static_cast<double>(c.tile_conversions);
    conversions += static_cast<double>(c.conversions);
  }
  double Ctr() const { return impressions > 0 ? clicks / impressions : 0; }
  double DismissalRate() const { return impressions > 0 ? dismissals / impressions : 0; }
  double PerThousand() const { return customers > 0 ? 1000 * conversions / customers : 0; }
  double TilePerThousand() const { return customers > 0 ? 1000 * tile_conversions / customers : 0; }
};

double Ratio(double a, double b) {
  return b != 0 ? a / b - 1 : 0;
}

// 2.5% and 97.5% percentiles of `draws` around `value`.
Interval Percentiles(double value, std::vector<double> draws) {
  Interval out{value, value, value};
  if (draws.empty()) return out;
  std::sort(draws.begin(), draws.end());
  auto at = [&](double q) {
    const size_t i = static_cast<size_t>(q * static_cast<double>(draws.size() - 1) + 0.5);
    return draws[std::min(i, draws.size() - 1)];
  };
  out.low = at(0.025);
  out.high = at(0.975);
  return out;
}

std::string WritePlot(const fs::path& dir,
                      const std::array<std::vector<double>, sim::kArmCount>& by_day,
                      const std::array<size_t, sim::kArmCount>& customers) {
  std::ofstream dat(dir / "cumulative_conversions.dat", std::ios::trunc);
  dat << "# day";
  for (size_t a = 0; a < sim::kArmCount; ++a) dat << ' ' << sim::ArmName(static_cast<sim::Arm>(a));
  dat << "  (cumulative conversions per 1,000 customers)\n";
  const size_t days = by_day[0].size();
  std::array<double, sim::kArmCount> total{};
  for (size_t d = 0; d < days; ++d) {
    dat << d + 1;
    for (size_t a = 0; a < sim::kArmCount; ++a) {
      total[a] += by_day[a][d];
      dat << ' '
          << Fixed(customers[a] > 0 ? 1000 * total[a] / static_cast<double>(customers[a]) : 0, 3);
    }
    dat << '\n';
  }
  dat.close();
  if (!dat) return "cumulative_conversions.dat not written (I/O error)";
  std::ofstream gp(dir / "cumulative_conversions.gp", std::ios::trunc);
  gp << "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 900,560 } "
        "else { set terminal png size 900,560 }\n"
     << "set output '" << (dir / "cumulative_conversions.png").string() << "'\n"
     << "set title 'closed loop: cumulative conversions by arm'\n"
     << "set xlabel 'day'\nset ylabel 'conversions per 1,000 customers'\nset key left top\n"
     << "plot ";
  for (size_t a = 0; a < sim::kArmCount; ++a) {
    gp << (a ? ", " : "") << "'" << (dir / "cumulative_conversions.dat").string()
       << "' using 1:" << a + 2 << " with linespoints title '"
       << sim::ArmName(static_cast<sim::Arm>(a)) << "'";
  }
  gp << '\n';
  gp.close();
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    return "gnuplot not found: cumulative_conversions.dat and .gp written, no PNG";
  }
  const std::string command =
      "gnuplot '" + (dir / "cumulative_conversions.gp").string() + "' 2>/dev/null";
  if (std::system(command.c_str()) != 0) {
    return "gnuplot failed: see " + (dir / "cumulative_conversions.gp").string();
  }
  return "plot: " + (dir / "cumulative_conversions.png").string();
}

// One logged tile of the open-loop world.
struct LoggedTile {
  std::string offer_id;
  std::string intent;
  double propensity = 0;
  bool clicked = false;
};

std::string OffPolicy(const ClosedLoopReportOptions& options, OffPolicyFigures* out) {
  // The processor's treated homepage decisions over the logged world, by LOGIN event id.
  std::unordered_map<std::string, std::vector<std::string>> slates;
  {
    std::ifstream in(options.logged_decisions);
    if (!in) return "--logged-decisions: cannot read " + options.logged_decisions;
    std::string line;
    int64_t line_no = 0;
    google::protobuf::util::JsonParseOptions parse;
    parse.ignore_unknown_fields = true;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      v1::Decision d;
      if (!google::protobuf::util::JsonStringToMessage(line, &d, parse).ok()) {
        return options.logged_decisions + ":" + std::to_string(line_no) + ": not a Decision";
      }
      if (d.placement() != "home_tile" || d.arm() != "treated") continue;
      auto& slate = slates[d.trigger_event_id()];
      slate.clear();
      for (const auto& o : d.offers()) slate.push_back(o.offer_id());
    }
  }
  // Logged visits: the bank's tiles with their propensities and clicks.
  std::map<std::string, std::vector<LoggedTile>> visits;  // ordered: reproducible bootstrap
  const fs::path path = fs::path(options.logged_dir) / "truth" / "home_visits.csv";
  std::string error = ReadTable(path, [&](const auto& c, const csv::Record& r) -> std::string {
    LoggedTile t;
    t.offer_id = Field(c, r, "offer_id");
    t.intent = Field(c, r, "intent");
    if (!Parse(Field(c, r, "bank_propensity"), &t.propensity)) {
      return "bank_propensity is not a number";
    }
    t.clicked = Field(c, r, "clicked") == "1";
    if (Field(c, r, "source") != "bank") return "--logged must be an open-loop world (source bank)";
    visits[Field(c, r, "login_event_id")].push_back(std::move(t));
    return "";
  });
  if (!error.empty()) return "--logged: " + error;
  // Per visit: sum of w * click, sum of w, tiles of the target slate.
  struct Term {
    double wc = 0, w = 0, k = 0;
  };
  // Two action spaces: the offer itself, and the intent the tile serves (what the
  // world's response model sees; the bank's policy shows one offer per intent, the
  // processor may show another offer for the same intent).
  std::array<std::vector<Term>, 2> terms;
  for (const auto& [login, tiles] : visits) {
    auto it = slates.find(login);
    if (it == slates.end()) continue;
    std::vector<std::string> intents;
    for (const auto& offer : it->second) {
      const auto intent = sim::IntentFromOffer(offer);
      if (intent && sim::Spec(*intent).offer_id == offer) ++out->supported_tiles;
      const std::string name = intent ? std::string(sim::IntentName(*intent)) : "";
      if (!name.empty() && std::find(intents.begin(), intents.end(), name) == intents.end()) {
        intents.push_back(name);
      }
    }
    out->target_tiles += it->second.size();
    for (size_t space = 0; space < 2; ++space) {
      const auto& actions = space == 0 ? it->second : intents;
      Term term;
      term.k = static_cast<double>(actions.size());
      for (const LoggedTile& t : tiles) {
        if (t.propensity <= 0) continue;
        const std::string& action = space == 0 ? t.offer_id : t.intent;
        if (std::find(actions.begin(), actions.end(), action) == actions.end()) continue;
        term.w += 1 / t.propensity;
        term.wc += t.clicked ? 1 / t.propensity : 0;
      }
      terms[space].push_back(term);
    }
  }
  out->visits = terms[0].size();
  if (terms[0].empty()) {
    return "--logged-decisions: no treated homepage decision matches a logged visit";
  }
  auto estimate = [](const std::vector<const Term*>& sample, double* ips, double* snips) {
    double wc = 0, w = 0, k = 0;
    for (const Term* t : sample) wc += t->wc, w += t->w, k += t->k;
    *ips = k > 0 ? wc / k : 0;
    *snips = w > 0 ? wc / w : 0;
  };
  for (size_t space = 0; space < 2; ++space) {
    std::vector<const Term*> all;
    for (const auto& t : terms[space]) all.push_back(&t);
    double ips = 0, snips = 0;
    estimate(all, &ips, &snips);
    std::vector<double> ips_draws, snips_draws;
    sim::Rng rng(sim::MixSeed({options.seed, 0x0FE, space}));
    std::vector<const Term*> sample(all.size());
    for (int b = 0; b < options.bootstrap_samples; ++b) {
      for (auto& s : sample) s = all[rng.Below(all.size())];
      double i = 0, s = 0;
      estimate(sample, &i, &s);
      ips_draws.push_back(i);
      snips_draws.push_back(s);
    }
    (space == 0 ? out->ips_ctr : out->intent_ips_ctr) = Percentiles(ips, std::move(ips_draws));
    (space == 0 ? out->snips_ctr : out->intent_snips_ctr) =
        Percentiles(snips, std::move(snips_draws));
  }
  return "";
}

}  // namespace

std::string BuildClosedLoopReport(const ClosedLoopReportOptions& options, ClosedLoopReport* out) {
  if (options.bootstrap_samples < 1) return "--bootstrap-samples must be >= 1";
  if (options.logged_dir.empty() != options.logged_decisions.empty()) {
    return "--logged and --logged-decisions go together";
  }
  const fs::path root(options.data_dir);
  const fs::path truth = root / "truth";
  std::map<std::string, std::string> props;
  if (std::string e = ReadProperties(root / "world.properties", &props); !e.empty()) {
    return "--closed-loop: " + e;
  }
  int64_t start_ms = 0;
  int32_t days = 0;
  if (!Parse(props["start_time_ms"], &start_ms) || !Parse(props["days"], &days) || days < 1) {
    return "--closed-loop: " + (root / "world.properties").string() +
           ": start_time_ms and days must be numbers";
  }
  std::unordered_map<std::string, size_t> index;  // customer -> position
  std::vector<sim::Arm> arm_of;
  std::vector<Customer> customers;
  std::string error =
      ReadTable(truth / "arms.csv", [&](const auto& c, const csv::Record& r) -> std::string {
        const auto arm = sim::ArmFromName(Field(c, r, "arm"));
        if (!arm) return "unknown arm '" + Field(c, r, "arm") + "'";
        index.emplace(Field(c, r, "customer_id"), arm_of.size());
        arm_of.push_back(*arm);
        customers.emplace_back();
        return "";
      });
  if (!error.empty()) {
    return "--closed-loop: " + error + " (a closed-loop world: journeygen --closed-loop --out)";
  }
  auto customer = [&](const std::string& id) -> Customer* {
    auto it = index.find(id);
    return it == index.end() ? nullptr : &customers[it->second];
  };
  try {
    error = ReadTable(truth / "home_visits.csv",
                      [&](const auto& c, const csv::Record& r) -> std::string {
                        Customer* k = customer(Field(c, r, "customer_id"));
                        if (!k)
                          return "customer " + Field(c, r, "customer_id") + " is not in arms.csv";
                        if (Field(c, r, "rank") == "1") ++k->visits;
                        ++k->impressions;
                        k->clicks += Field(c, r, "clicked") == "1";
                        k->dismissals += Field(c, r, "dismissed") == "1";
                        k->applications += Field(c, r, "applied") == "1";
                        k->tile_conversions += Field(c, r, "converted") == "1";
                        return "";
                      });
    if (!error.empty()) return "--closed-loop: " + error;
    std::array<std::vector<double>, sim::kArmCount> by_day;
    for (auto& d : by_day) d.assign(static_cast<size_t>(days), 0.0);
    error = ReadTable(
        truth / "conversions.csv", [&](const auto& c, const csv::Record& r) -> std::string {
          auto it = index.find(Field(c, r, "customer_id"));
          if (it == index.end())
            return "customer " + Field(c, r, "customer_id") + " is not in arms.csv";
          ++customers[it->second].conversions;
          int64_t t = 0;
          if (!Parse(Field(c, r, "time_ms"), &t)) return "time_ms is not a number";
          const int64_t day = std::clamp<int64_t>((t - start_ms) / kDayMs, 0, days - 1);
          by_day[static_cast<size_t>(arm_of[it->second])][static_cast<size_t>(day)] += 1;
          return "";
        });
    if (!error.empty()) return "--closed-loop: " + error;
    std::array<double, sim::kArmCount> lead_sum{};
    error =
        ReadTable(truth / "episodes.csv", [&](const auto& c, const csv::Record& r) -> std::string {
          if (Field(c, r, "converted") != "1") return "";
          auto it = index.find(Field(c, r, "customer_id"));
          if (it == index.end()) return "";  // prospects
          int64_t a = 0, b = 0;
          if (!Parse(Field(c, r, "start_ms"), &a) || !Parse(Field(c, r, "end_ms"), &b)) {
            return "start_ms/end_ms are not numbers";
          }
          const size_t arm = static_cast<size_t>(arm_of[it->second]);
          lead_sum[arm] += static_cast<double>(b - a) / kDayMs;
          ++out->arms[arm].lead_time_n;
          return "";
        });
    if (!error.empty()) return "--closed-loop: " + error;
    for (size_t a = 0; a < sim::kArmCount; ++a) {
      if (out->arms[a].lead_time_n > 0) {
        out->arms[a].lead_time_days = lead_sum[a] / static_cast<double>(out->arms[a].lead_time_n);
      }
    }

    // Point figures, then the bootstrap over customers within each arm.
    std::array<std::vector<const Customer*>, sim::kArmCount> members;
    for (size_t i = 0; i < customers.size(); ++i) {
      members[static_cast<size_t>(arm_of[i])].push_back(&customers[i]);
    }
    std::array<Sums, sim::kArmCount> point;
    for (size_t a = 0; a < sim::kArmCount; ++a) {
      ArmFigures& f = out->arms[a];
      for (const Customer* c : members[a]) {
        point[a].Add(*c);
        f.visits += c->visits;
        f.impressions += c->impressions;
        f.clicks += c->clicks;
        f.dismissals += c->dismissals;
        f.applications += c->applications;
        f.tile_conversions += c->tile_conversions;
        f.conversions += c->conversions;
      }
      f.customers = members[a].size();
    }
    const size_t kT = static_cast<size_t>(sim::Arm::kTreated);
    const size_t kBank = static_cast<size_t>(sim::Arm::kBank);
    const size_t kOracle = static_cast<size_t>(sim::Arm::kOracle);
    std::array<std::array<std::vector<double>, 4>, sim::kArmCount> draws;  // ctr, dis, conv, tile
    std::array<std::vector<double>, sim::kArmCount> ctr_lift, conv_lift;
    std::vector<double> gap, tile_gap, ctr_gap;
    sim::Rng rng(sim::MixSeed({options.seed, 0xB00}));
    for (int b = 0; b < options.bootstrap_samples; ++b) {
      std::array<Sums, sim::kArmCount> s;
      for (size_t a = 0; a < sim::kArmCount; ++a) {
        const auto& m = members[a];
        for (size_t i = 0; i < m.size(); ++i) s[a].Add(*m[rng.Below(m.size())]);
        draws[a][0].push_back(s[a].Ctr());
        draws[a][1].push_back(s[a].DismissalRate());
        draws[a][2].push_back(s[a].PerThousand());
        draws[a][3].push_back(s[a].TilePerThousand());
      }
      for (size_t a = 0; a < sim::kArmCount; ++a) {
        ctr_lift[a].push_back(Ratio(s[kT].Ctr(), s[a].Ctr()));
        conv_lift[a].push_back(Ratio(s[kT].PerThousand(), s[a].PerThousand()));
      }
      const double span = s[kOracle].PerThousand() - s[kBank].PerThousand();
      gap.push_back(span != 0 ? (s[kT].PerThousand() - s[kBank].PerThousand()) / span : 0);
      const double ctr_span = s[kOracle].Ctr() - s[kBank].Ctr();
      ctr_gap.push_back(ctr_span != 0 ? (s[kT].Ctr() - s[kBank].Ctr()) / ctr_span : 0);
      const double tile_span = s[kOracle].TilePerThousand() - s[kBank].TilePerThousand();
      tile_gap.push_back(
          tile_span != 0 ? (s[kT].TilePerThousand() - s[kBank].TilePerThousand()) / tile_span : 0);
    }
    for (size_t a = 0; a < sim::kArmCount; ++a) {
      ArmFigures& f = out->arms[a];
      f.ctr = Percentiles(point[a].Ctr(), std::move(draws[a][0]));
      f.dismissal_rate = Percentiles(point[a].DismissalRate(), std::move(draws[a][1]));
      f.conversions_per_1000 = Percentiles(point[a].PerThousand(), std::move(draws[a][2]));
      f.tile_conversions_per_1000 = Percentiles(point[a].TilePerThousand(), std::move(draws[a][3]));
      out->ctr_lift[a] =
          Percentiles(Ratio(point[kT].Ctr(), point[a].Ctr()), std::move(ctr_lift[a]));
      out->conversion_lift[a] = Percentiles(Ratio(point[kT].PerThousand(), point[a].PerThousand()),
                                            std::move(conv_lift[a]));
    }
    const double span = point[kOracle].PerThousand() - point[kBank].PerThousand();
    out->gap_closed =
        Percentiles(span != 0 ? (point[kT].PerThousand() - point[kBank].PerThousand()) / span : 0,
                    std::move(gap));
    const double ctr_span = point[kOracle].Ctr() - point[kBank].Ctr();
    out->ctr_gap_closed = Percentiles(
        ctr_span != 0 ? (point[kT].Ctr() - point[kBank].Ctr()) / ctr_span : 0, std::move(ctr_gap));
    const double tile_span = point[kOracle].TilePerThousand() - point[kBank].TilePerThousand();
    out->tile_gap_closed = Percentiles(
        tile_span != 0 ? (point[kT].TilePerThousand() - point[kBank].TilePerThousand()) / tile_span
                       : 0,
        std::move(tile_gap));

    // Off-policy estimates from the logged world.
    if (!options.logged_dir.empty()) {
      OffPolicyFigures ope;
      if (std::string e = OffPolicy(options, &ope); !e.empty()) return e;
      out->off_policy = ope;
    }

    // The loop's own counters.
    std::map<std::string, std::string> loop;
    if (ReadProperties(truth / "closed_loop.properties", &loop).empty()) {
      std::ostringstream s;
      s << "visits that waited for a decision " << loop["visits_waited"] << " in " << loop["steps"]
        << " steps of " << loop["step_minutes"] << " min: " << loop["answered"]
        << " shown the processor's tiles, " << loop["misses"]
        << " misses (no decision in time: bank policy), " << loop["unknown_offer"]
        << " decisions naming an unknown offer and " << loop["unknown_customer"]
        << " an unknown customer ignored, " << loop["arm_mismatch"] << " arm mismatches";
      out->loop_counters = s.str();
    }

    std::ostringstream md;
    md << "## Closed loop: " << options.data_dir << "\n\n";
    if (!out->loop_counters.empty()) md << out->loop_counters << ".\n\n";
    md << "95% intervals: percentile bootstrap over customers (" << options.bootstrap_samples
       << " resamples, seed " << options.seed << ").\n\n"
       << "| arm | customers | home visits | impressions | CTR | dismissal rate | tile "
          "applications | conversions / 1,000 customers | of which from a tile / 1,000 | "
          "lead time (days, mean of n) |\n"
       << "|---|---:|---:|---:|---|---|---:|---|---|---|\n";
    for (size_t a = 0; a < sim::kArmCount; ++a) {
      const ArmFigures& f = out->arms[a];
      md << "| " << sim::ArmName(static_cast<sim::Arm>(a)) << " | " << f.customers << " | "
         << f.visits << " | " << f.impressions << " | " << Show(f.ctr, 4) << " | "
         << Show(f.dismissal_rate, 4) << " | " << f.applications << " | "
         << Show(f.conversions_per_1000, 1) << " | " << Show(f.tile_conversions_per_1000, 1)
         << " | " << Fixed(f.lead_time_days, 1) << " (" << f.lead_time_n << ") |\n";
    }
    md << "\n| treated over | CTR lift | conversions lift |\n|---|---|---|\n";
    for (size_t a = 1; a < sim::kArmCount; ++a) {
      md << "| " << sim::ArmName(static_cast<sim::Arm>(a)) << " | " << Show(out->ctr_lift[a], 3)
         << " | " << Show(out->conversion_lift[a], 3) << " |\n";
    }
    md << "\nShare of the bank-to-oracle gap in conversions per 1,000 customers that the "
          "treated arm closes: "
       << Show(out->gap_closed, 3)
       << "; on conversions from a tile: " << Show(out->tile_gap_closed, 3) << "\n";
    const bool above_bank_oracle =
        out->arms[kOracle].conversions_per_1000.low > out->arms[kBank].conversions_per_1000.high;
    if (!above_bank_oracle) {
      md << "(The oracle's conversions are not above the bank policy's with intervals apart: "
            "the gap is within the noise, and so is the share of it.)\n";
    }
    md << "The same on CTR: " << Show(out->ctr_gap_closed, 3) << "\n";
    md << "\n";
    auto above = [&](size_t a, auto metric) {
      return metric(out->arms[kT]).low > metric(out->arms[a]).high;
    };
    auto ctr = [](const ArmFigures& f) { return f.ctr; };
    auto conv = [](const ArmFigures& f) { return f.conversions_per_1000; };
    const size_t kHold = static_cast<size_t>(sim::Arm::kHoldout);
    md << "Goals: treated CTR above bank and holdout, intervals apart: "
       << (above(kBank, ctr) && above(kHold, ctr) ? "met" : "missed")
       << "; treated conversions above bank and holdout, intervals apart: "
       << (above(kBank, conv) && above(kHold, conv) ? "met" : "missed")
       << "; at least half the bank-to-oracle gap in conversions closed: "
       << (!above_bank_oracle ? "not measurable (the oracle is not above the bank policy)"
           : out->gap_closed.value >= 0.5 ? "met"
                                          : "missed")
       << ".\n";
    if (out->off_policy) {
      const auto& o = *out->off_policy;
      const Interval& closed = out->arms[kT].ctr;
      auto inside = [&](const Interval& e) {
        return e.value >= closed.low && e.value <= closed.high ? "inside" : "outside";
      };
      md << "\n### Off-policy check (logged world: " << options.logged_dir << ")\n\n"
         << o.visits << " logged home visits with a treated decision; of the processor's "
         << o.target_tiles << " tiles for them, " << o.supported_tiles
         << " are offers the bank's policy can show (the rest have no logging support).\n\n"
         << "| estimate of the processor's CTR | value [95% CI] | closed-loop treated CTR |\n"
         << "|---|---|---|\n"
         << "| IPS, action = offer | " << Show(o.ips_ctr, 4) << " | " << inside(o.ips_ctr) << " "
         << Show(closed, 4) << " |\n"
         << "| SNIPS, action = offer | " << Show(o.snips_ctr, 4) << " | " << inside(o.snips_ctr)
         << " " << Show(closed, 4) << " |\n"
         << "| IPS, action = the tile's intent | " << Show(o.intent_ips_ctr, 4) << " | "
         << inside(o.intent_ips_ctr) << " " << Show(closed, 4) << " |\n"
         << "| SNIPS, action = the tile's intent | " << Show(o.intent_snips_ctr, 4) << " | "
         << inside(o.intent_snips_ctr) << " " << Show(closed, 4) << " |\n";
    }
    if (!options.out_dir.empty()) {
      const fs::path dir(options.out_dir);
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) return "--out: cannot create " + dir.string() + ": " + ec.message();
      std::array<size_t, sim::kArmCount> sizes{};
      for (size_t a = 0; a < sim::kArmCount; ++a) sizes[a] = out->arms[a].customers;
      md << "\n" << WritePlot(dir, by_day, sizes) << "\n";
      std::ofstream csv_out(dir / "closed_loop.csv", std::ios::trunc);
      csv_out << "arm,customers,visits,impressions,clicks,dismissals,applications,"
                 "tile_conversions,conversions,ctr,ctr_low,ctr_high,conversions_per_1000,"
                 "conversions_per_1000_low,conversions_per_1000_high,lead_time_days\n";
      for (size_t a = 0; a < sim::kArmCount; ++a) {
        const ArmFigures& f = out->arms[a];
        csv_out << sim::ArmName(static_cast<sim::Arm>(a)) << ',' << f.customers << ',' << f.visits
                << ',' << f.impressions << ',' << f.clicks << ',' << f.dismissals << ','
                << f.applications << ',' << f.tile_conversions << ',' << f.conversions << ','
                << Fixed(f.ctr.value, 6) << ',' << Fixed(f.ctr.low, 6) << ','
                << Fixed(f.ctr.high, 6) << ',' << Fixed(f.conversions_per_1000.value, 3) << ','
                << Fixed(f.conversions_per_1000.low, 3) << ','
                << Fixed(f.conversions_per_1000.high, 3) << ',' << Fixed(f.lead_time_days, 3)
                << '\n';
      }
      std::ofstream md_out(dir / "closed_loop.md", std::ios::trunc);
      md_out << md.str();
      if (!csv_out || !md_out) return "--out: cannot write closed_loop.csv / closed_loop.md";
    }
    out->markdown = md.str();
  } catch (const std::out_of_range& e) {
    return "--closed-loop: a truth file lacks a column (" + std::string(e.what()) +
           "); regenerate the world with this version";
  }
  return "";
}

}  // namespace intentstream::eval
