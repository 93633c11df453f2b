#include "eval/intent_report.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <map>
#include <sstream>

#include "decide/intent_rules.h"

namespace intentstream::eval {

namespace {

using sim::Intent;
using Clock = std::chrono::steady_clock;

class RuleLabeller final : public WindowLabeller {
 public:
  explicit RuleLabeller(std::shared_ptr<const catalog::Catalog> catalog)
      : catalog_(std::move(catalog)), rules_(std::make_shared<decide::IntentMatcher>(catalog_)) {}
  std::string name() const override {
    return "teacher (" + decide::RuleIntentScorer::Version() + ")";
  }
  void Label(std::span<const Window> windows, std::span<const int64_t> as_of,
             std::vector<std::vector<int>>* labels) override {
    labels->assign(windows.size(), {});
    std::vector<float> scores(catalog_->intents().size());
    for (size_t i = 0; i < windows.size(); ++i) {
      rules_.Score(windows[i], as_of[i], scores);
      (*labels)[i] = rules_.Label(scores).labels;
    }
  }

 private:
  std::shared_ptr<const catalog::Catalog> catalog_;
  decide::RuleIntentScorer rules_;
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string Fixed(double v, int digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Times each Label() call: the labeller's latency per window.
double Timed(WindowLabeller& l, std::span<const Window> w, std::span<const int64_t> t,
             std::vector<std::vector<int>>* out) {
  const auto started = Clock::now();
  l.Label(w, t, out);
  return std::chrono::duration<double, std::micro>(Clock::now() - started).count();
}

// Per-customer session spans, computed once per visibility.
class SpanIndex {
 public:
  SpanIndex(const Timelines& t, const IntentReportOptions& o, bool with_web)
      : timelines_(t), options_(o) {
    options_.visible.with_web = with_web;
  }
  const std::vector<Timelines::Span>& Of(const std::string& customer) {
    auto [it, inserted] = spans_.try_emplace(customer);
    if (inserted) {
      timelines_.Sessions(customer, INT64_MIN, INT64_MAX, options_.visible, options_.session_gap_ms,
                          &it->second);
    }
    return it->second;
  }
  const VisibleOptions& visible() const { return options_.visible; }

 private:
  const Timelines& timelines_;
  IntentReportOptions options_;
  std::map<std::string, std::vector<Timelines::Span>> spans_;
};

}  // namespace

std::unique_ptr<WindowLabeller> MakeRuleLabeller(std::shared_ptr<const catalog::Catalog> catalog) {
  return std::make_unique<RuleLabeller>(std::move(catalog));
}

IntentReport RunIntentReport(const Dataset& data, const std::vector<Example>& examples,
                             const catalog::Catalog& catalog,
                             std::span<WindowLabeller* const> labellers,
                             const IntentReportOptions& options) {
  IntentReport report;
  const Timelines timelines(data);
  std::vector<Intent> to_world;
  for (const auto& in : catalog.intents()) {
    to_world.push_back(sim::IntentFromName(in.id).value_or(Intent::kEverydayServicing));
  }
  const auto world_of = [&](const std::vector<int>& labels) {
    return labels.empty() ? Intent::kEverydayServicing : to_world[static_cast<size_t>(labels[0])];
  };

  // Test sessions: the session of each test LOGIN, at its end and at the LOGIN.
  SpanIndex with_web(timelines, options, true), app_only(timelines, options, false);
  std::vector<std::vector<const v1::SessionEvent*>> end_windows, login_windows;
  std::vector<int64_t> end_times, login_times;
  std::vector<Intent> truth;
  for (const Example& ex : examples) {
    if (ex.split != 2) continue;
    const auto& spans = with_web.Of(ex.customer_id);
    auto it = std::upper_bound(spans.begin(), spans.end(), ex.time_ms,
                               [](int64_t t, const Timelines::Span& s) { return t < s.start_ms; });
    if (it == spans.begin()) continue;  // cannot happen: the LOGIN is one of the events
    --it;
    end_windows.emplace_back();
    timelines.Visible(ex.customer_id, it->end_ms, with_web.visible(), &end_windows.back());
    end_times.push_back(it->end_ms);
    login_windows.emplace_back();
    timelines.Visible(ex.customer_id, ex.time_ms, with_web.visible(), &login_windows.back());
    login_times.push_back(ex.time_ms);
    truth.push_back(ex.intent);
  }
  report.test_sessions = truth.size();
  const auto as_windows = [](const std::vector<std::vector<const v1::SessionEvent*>>& v) {
    std::vector<Window> w;
    w.reserve(v.size());
    for (const auto& x : v) w.emplace_back(x.data(), x.size());
    return w;
  };
  const auto ends = as_windows(end_windows);
  const auto logins = as_windows(login_windows);

  std::vector<Intent> first_top;
  for (WindowLabeller* l : labellers) {
    LabellerMetrics m;
    m.name = l->name();
    m.sessions = truth.size();
    std::vector<std::vector<int>> at_end, at_login;
    const double micros = Timed(*l, ends, end_times, &at_end);
    Timed(*l, logins, login_times, &at_login);
    m.micros_per_window = ends.empty() ? 0 : micros / static_cast<double>(ends.size());
    const auto score = [&](const std::vector<std::vector<int>>& labels, bool keep) {
      std::array<double, sim::kIntentCount> tp{}, fp{}, fn{}, support{};
      for (size_t i = 0; i < truth.size(); ++i) {
        const auto t = static_cast<size_t>(truth[i]);
        const auto p = static_cast<size_t>(world_of(labels[i]));
        ++support[t];
        if (t == p) {
          ++tp[t];
        } else {
          ++fp[p];
          ++fn[t];
        }
      }
      double sp = 0, sr = 0, sf = 0;
      int n = 0;
      for (size_t c = 0; c < sim::kIntentCount; ++c) {
        ClassMetrics cm;
        cm.intent = std::string(sim::IntentName(static_cast<Intent>(c)));
        cm.support = static_cast<size_t>(support[c]);
        cm.precision = tp[c] + fp[c] > 0 ? tp[c] / (tp[c] + fp[c]) : 0;
        cm.recall = tp[c] + fn[c] > 0 ? tp[c] / (tp[c] + fn[c]) : 0;
        cm.f1 = 2 * tp[c] + fp[c] + fn[c] > 0 ? 2 * tp[c] / (2 * tp[c] + fp[c] + fn[c]) : 0;
        if (tp[c] + fp[c] + fn[c] > 0) {
          sp += cm.precision;
          sr += cm.recall;
          sf += cm.f1;
          ++n;
        }
        if (keep) m.per_intent.push_back(cm);
      }
      return std::array<double, 3>{n ? sp / n : 0, n ? sr / n : 0, n ? sf / n : 0};
    };
    const auto e = score(at_end, true);
    m.macro_precision = e[0];
    m.macro_recall = e[1];
    m.macro_f1 = e[2];
    m.macro_f1_at_login = score(at_login, false)[2];
    for (const auto& x : at_login) m.login_top.push_back(world_of(x));
    std::vector<Intent> top;
    for (const auto& x : at_end) top.push_back(world_of(x));
    if (first_top.empty()) {
      first_top = top;
    } else {
      size_t agree = 0;
      for (size_t i = 0; i < top.size(); ++i) agree += top[i] == first_top[i];
      m.agreement = top.empty() ? 0 : static_cast<double>(agree) / static_cast<double>(top.size());
    }
    m.note = l->Note();
    report.labellers.push_back(std::move(m));
  }

  // Lead time: session ends within each converting episode, before the conversion.
  for (SpanIndex* index : {&with_web, &app_only}) {
    std::vector<std::vector<const v1::SessionEvent*>> windows;
    std::vector<int64_t> times;
    struct Case {
      size_t begin, end;  // its windows
      int64_t conversion_ms;
      int intent;  // catalogue index
    };
    std::vector<Case> cases;
    for (const auto& c : data.conversions) {
      if (data.SplitOf(c.time_ms) != 2) continue;
      const int intent = catalog.FindIntent(sim::IntentName(c.intent));
      if (intent < 0) continue;
      Case k{windows.size(), windows.size(), c.time_ms, intent};
      for (const auto& s : index->Of(c.customer_id)) {
        if (s.end_ms < c.episode_start_ms || s.end_ms >= c.time_ms) continue;
        windows.emplace_back();
        timelines.Visible(c.customer_id, s.end_ms, index->visible(), &windows.back());
        times.push_back(s.end_ms);
      }
      k.end = windows.size();
      cases.push_back(k);
    }
    const auto w = as_windows(windows);
    for (WindowLabeller* l : labellers) {
      std::vector<std::vector<int>> labels;
      l->Label(w, times, &labels);
      LeadTimeRow row;
      row.labeller = l->name();
      row.with_web = index == &with_web;
      std::vector<double> detected, all;
      for (const Case& k : cases) {
        ++row.conversions;
        double lead = -1;
        for (size_t i = k.begin; i < k.end; ++i) {
          if (std::find(labels[i].begin(), labels[i].end(), k.intent) != labels[i].end()) {
            lead = static_cast<double>(k.conversion_ms - times[i]) / kDayMs;
            break;
          }
        }
        if (lead >= 0) {
          ++row.detected;
          detected.push_back(lead);
        }
        all.push_back(std::max(lead, 0.0));
      }
      row.median_days_detected = Median(detected);
      row.median_days_all = Median(all);
      report.lead_time.push_back(row);
    }
  }
  return report;
}

std::string FormatIntentReport(const IntentReport& r) {
  std::ostringstream out;
  char buf[256];
  out << "Intent labels on " << r.test_sessions
      << " test-period app sessions against the latent intents (labelled as of each "
         "session's last event)\n\n";
  std::snprintf(buf, sizeof buf, "%-26s %9s %9s %9s %11s %10s %12s\n", "labeller", "macro P",
                "macro R", "macro F1", "F1 @LOGIN", "agreement", "us/session");
  out << buf << std::string(92, '-') << '\n';
  for (const auto& m : r.labellers) {
    std::snprintf(buf, sizeof buf, "%-26s %9.4f %9.4f %9.4f %11.4f %10.4f %12.1f\n", m.name.c_str(),
                  m.macro_precision, m.macro_recall, m.macro_f1, m.macro_f1_at_login, m.agreement,
                  m.micros_per_window);
    out << buf;
  }
  for (const auto& m : r.labellers) {
    if (!m.note.empty()) out << m.name << ": " << m.note << '\n';
  }
  out << "\nper intent (precision / recall / F1):\n";
  std::snprintf(buf, sizeof buf, "%-22s %8s", "intent", "support");
  out << buf;
  for (const auto& m : r.labellers) {
    std::snprintf(buf, sizeof buf, " | %-22.22s", m.name.c_str());
    out << buf;
  }
  out << '\n';
  if (!r.labellers.empty()) {
    for (size_t c = 0; c < r.labellers[0].per_intent.size(); ++c) {
      std::snprintf(buf, sizeof buf, "%-22s %8zu", r.labellers[0].per_intent[c].intent.c_str(),
                    r.labellers[0].per_intent[c].support);
      out << buf;
      for (const auto& m : r.labellers) {
        const auto& x = m.per_intent[c];
        std::snprintf(buf, sizeof buf, " | %6.3f %6.3f %6.3f  ", x.precision, x.recall, x.f1);
        out << buf;
      }
      out << '\n';
    }
  }
  out << "\nlead time: days from the first detection of the converting intent (at a session "
         "end within the episode) to the conversion\n";
  std::snprintf(buf, sizeof buf, "%-26s %-10s %11s %9s %16s %13s\n", "labeller", "history",
                "conversions", "detected", "median detected", "median all");
  out << buf << std::string(92, '-') << '\n';
  for (const auto& l : r.lead_time) {
    std::snprintf(buf, sizeof buf, "%-26s %-10s %11zu %9zu %16.2f %13.2f\n", l.labeller.c_str(),
                  l.with_web ? "web+app" : "app only", l.conversions, l.detected,
                  l.median_days_detected, l.median_days_all);
    out << buf;
  }
  return out.str();
}

std::string FormatIntentReportMarkdown(const IntentReport& r) {
  std::ostringstream out;
  out << "Intent labels on " << r.test_sessions
      << " test-period app sessions against the latent intents, labelled as of each "
         "session's last event (F1 @LOGIN: from what the state holds at the session's "
         "LOGIN).\n\n"
      << "| labeller | macro precision | macro recall | macro F1 | macro F1 @LOGIN | "
         "agreement with the teacher | µs per session |\n|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& m : r.labellers) {
    out << "| " << m.name << " | " << Fixed(m.macro_precision) << " | " << Fixed(m.macro_recall)
        << " | " << Fixed(m.macro_f1) << " | " << Fixed(m.macro_f1_at_login) << " | "
        << Fixed(m.agreement) << " | " << Fixed(m.micros_per_window, 1) << " |\n";
  }
  for (const auto& m : r.labellers) {
    if (!m.note.empty()) out << "\n" << m.name << ": " << m.note << "\n";
  }
  if (!r.labellers.empty()) {
    out << "\n| intent | support";
    for (const auto& m : r.labellers) out << " | " << m.name << " P / R / F1";
    out << " |\n|---|---:";
    for (size_t i = 0; i < r.labellers.size(); ++i) out << "|---:";
    out << "|\n";
    for (size_t c = 0; c < r.labellers[0].per_intent.size(); ++c) {
      out << "| " << r.labellers[0].per_intent[c].intent << " | "
          << r.labellers[0].per_intent[c].support;
      for (const auto& m : r.labellers) {
        const auto& x = m.per_intent[c];
        out << " | " << Fixed(x.precision, 3) << " / " << Fixed(x.recall, 3) << " / "
            << Fixed(x.f1, 3);
      }
      out << " |\n";
    }
  }
  out << "\nLead time (days from the first session end within the episode whose labels "
         "include the converting intent, to the conversion):\n\n"
      << "| labeller | history | conversions | detected | median (detected) | median (all, "
         "undetected = 0) |\n|---|---|---:|---:|---:|---:|\n";
  for (const auto& l : r.lead_time) {
    out << "| " << l.labeller << " | " << (l.with_web ? "web+app" : "app only") << " | "
        << l.conversions << " | " << l.detected << " | " << Fixed(l.median_days_detected, 2)
        << " | " << Fixed(l.median_days_all, 2) << " |\n";
  }
  return out.str();
}

}  // namespace intentstream::eval
