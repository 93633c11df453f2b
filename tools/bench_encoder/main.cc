// intentstream-bench-encoder: single-thread throughput of the session encoder.
//
// In one run, on one thread:
//   (a) a plain float32 matmul (the machine's practical FLOP rate),
//   (b) embedding updates/s when every event re-encodes the whole window,
//   (c) updates/s of the incremental, batched serving path, and its achieved GFLOP/s
//       as a fraction of (a);
// plus the bytes a visitor's state takes (serialized, and in RocksDB after compaction), in
// the stored format (state/visitor_codec.h) and in the previous one, side by side, with
// the serialized bytes of each field and column of the stored value.
//
//   intentstream-bench-encoder [--model DIR] [--visitors N] [--batch N] [--quick]
//                              [--state-bytes]   (only the state size table)
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "intentstream/v1/state.pb.h"
#include "model/blas_probe.h"
#include "model/incremental_encoder.h"
#include "model/model.h"
#include "state/visitor_codec.h"

namespace {

using namespace intentstream;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Events shaped like the bank's clickstream (realistic string lengths for state size).
class Events {
 public:
  explicit Events(uint64_t seed) : rng_(seed) {}
  v1::SessionEvent Next(int64_t time_ms) {
    static const char* kCats[] = {"/credit-cards/travel-rewards",
                                  "/loans/personal",
                                  "/mortgages/first-time-buyers",
                                  "/savings/easy-access",
                                  "/help/contact",
                                  "home",
                                  "accounts",
                                  "cards/compare",
                                  "payments/transfer",
                                  "/investments/isa"};
    static const char* kProds[] = {
        "", "", "", "CC_TRAVEL", "LOAN_PERSONAL", "MORTGAGE_FTB", "SAVINGS_EASY"};
    static const char* kChans[] = {"", "organic", "paid_search", "email", "social"};
    v1::SessionEvent e;
    e.set_event_key(rng_());
    e.set_time_ms(time_ms);
    const bool web = rng_() % 2 == 0;
    e.set_source(web ? v1::SOURCE_WEB : v1::SOURCE_APP);
    e.set_event_type(static_cast<uint32_t>(1 + rng_() % 8));
    e.set_category(kCats[rng_() % 10]);
    e.set_product(kProds[rng_() % 7]);
    if (rng_() % 10 == 0) {
      e.add_query_term_hashes(static_cast<uint32_t>(rng_()));
      e.add_query_term_hashes(static_cast<uint32_t>(rng_()));
    }
    e.set_dwell_ms(static_cast<uint32_t>(rng_() % 90000));
    e.set_device(web ? v1::DEVICE_DESKTOP : v1::DEVICE_IOS_APP);
    if (web) e.set_channel(kChans[rng_() % 5]);
    return e;
  }

 private:
  std::mt19937_64 rng_;
};

struct Workload {
  std::vector<std::string> ids;
  std::vector<v1::VisitorState> states;
  std::vector<int64_t> clock;
  Events events{11};
  int max_events;

  Workload(int visitors, int max_events_) : max_events(max_events_) {
    for (int i = 0; i < visitors; ++i) ids.push_back("visitor-" + std::to_string(i));
    states.resize(static_cast<size_t>(visitors));
    clock.assign(static_cast<size_t>(visitors), 1767571200000);
  }
  void Append(size_t v) {
    clock[v] += 20000;
    auto* list = states[v].mutable_events();
    *list->Add() = events.Next(clock[v]);
    if (list->size() > max_events) list->DeleteSubrange(0, list->size() - max_events);
  }
};

struct RunResult {
  double updates_per_s = 0;
  double gflops = 0;
  double positions_per_update = 0;
};

// Appends one event to every visitor per round, encoding `batch` visitors per call.
RunResult Run(const model::SessionModel& m, model::IncrementalEncoder& enc, Workload& w, int rounds,
              int batch) {
  const auto before = enc.stats();
  const auto t0 = Clock::now();
  std::vector<op::VisitorUpdate> updates;
  int64_t n = 0;
  for (int r = 0; r < rounds; ++r) {
    for (size_t b0 = 0; b0 < w.ids.size(); b0 += static_cast<size_t>(batch)) {
      updates.clear();
      for (size_t v = b0; v < std::min(w.ids.size(), b0 + static_cast<size_t>(batch)); ++v) {
        w.Append(v);
        op::VisitorUpdate u;
        u.visitor_id = w.ids[v];
        u.state = &w.states[v];
        updates.push_back(u);
      }
      enc.Encode(updates);
      n += static_cast<int64_t>(updates.size());
    }
  }
  const double s = Seconds(t0);
  const auto& after = enc.stats();
  const auto& c = m.config().encoder;
  const double d = c.d_model;
  const double dense = 2.0 * (d * 3 * d + d * d + 2 * d * c.ffn);  // per position per layer
  const double positions = static_cast<double>(after.positions - before.positions);
  const double keys = static_cast<double>(after.attended_keys - before.attended_keys);
  const double flops = c.layers * (positions * dense + keys * 4.0 * d);
  return {static_cast<double>(n) / s, flops / s / 1e9, positions / static_cast<double>(n)};
}

std::shared_ptr<model::SessionModel> RandomModel() {
  std::map<std::string, int64_t> cats, prods, chans;
  for (int i = 0; i < 300; ++i) cats["/cat/" + std::to_string(i)] = 10;
  for (int i = 0; i < 40; ++i) prods["P" + std::to_string(i)] = 10;
  chans["organic"] = 10;
  model::ModelConfig c;
  c.model_version = "bench-random";
  return model::SessionModel::Create(
      c, model::Tokenizer(c.tokenizer, model::Vocabulary::Build(cats, 1, 1000),
                          model::Vocabulary::Build(prods, 1, 1000),
                          model::Vocabulary::Build(chans, 1, 1000)));
}

// Bytes per visitor of one value format: serialized, and on disk in RocksDB (compacted)
// with the default compression and with ZSTD.
struct FormatBytes {
  double serialized = 0;
  double on_disk = 0;
  double on_disk_zstd = 0;
};
struct StateSizes {
  FormatBytes compact, legacy;
  double event_keys = 0;  // bytes of the 64-bit event keys alone (8 per event)
  double embedding = 0;   // bytes of the embedding alone
  // Serialized bytes of each field of the stored value (tag and length included), mean
  // per visitor: "visitor.<field>" for the header, "events.<column>" for the window.
  std::vector<std::pair<std::string, double>> fields;
};

// Bytes of one field of `m` as serialized: the message with every other field cleared.
size_t FieldBytes(const google::protobuf::Message& m, const google::protobuf::FieldDescriptor* f) {
  std::unique_ptr<google::protobuf::Message> only(m.New());
  only->CopyFrom(m);
  const auto* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i) != f) only->GetReflection()->ClearField(only.get(), d->field(i));
  }
  return only->ByteSizeLong();
}

// Adds the bytes of every non-empty field of a stored value (format 1) to `fields`.
void AddFieldBytes(const std::string& value, std::map<std::string, double>* fields) {
  v1::StoredVisitor stored;
  if (state::FormatOf(value) != state::VisitorFormat::kCompact ||
      !stored.ParseFromArray(value.data() + 2, static_cast<int>(value.size() - 2))) {
    return;
  }
  (*fields)["prefix (format bytes)"] += 2;
  auto add = [&](const google::protobuf::Message& m, const std::string& prefix, size_t framing) {
    const auto* d = m.GetDescriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      const size_t bytes = FieldBytes(m, d->field(i));
      if (bytes > 0) (*fields)[prefix + d->field(i)->name()] += static_cast<double>(bytes);
    }
    if (framing > 0) (*fields)[prefix + "(framing)"] += static_cast<double>(framing);
  };
  const size_t visitor = stored.visitor().ByteSizeLong();
  const size_t events = stored.events().ByteSizeLong();
  // Tags and lengths of the two submessages.
  add(stored.visitor(), "visitor.", stored.ByteSizeLong() - visitor - events);
  add(stored.events(), "events.", 0);
}

StateSizes StateBytes(const model::SessionModel& m, int visitors) {
  Workload w(visitors, 64);
  model::IncrementalEncoder enc(std::shared_ptr<const model::SessionModel>(&m, [](auto*) {}),
                                model::IncrementalEncoderOptions{0});
  for (int i = 0; i < 64; ++i) {
    for (size_t v = 0; v < w.ids.size(); ++v) w.Append(v);
  }
  std::vector<op::VisitorUpdate> updates;
  for (size_t v = 0; v < w.ids.size(); ++v) {
    auto& s = w.states[v];
    s.set_first_seen_ms(1767571200000);
    s.set_last_event_ms(w.clock[v]);
    s.set_events_total(64);
    s.set_web_events(32);
    s.set_app_events(32);
    s.set_session_count(3);
    op::VisitorUpdate u;
    u.visitor_id = w.ids[v];
    u.state = &s;
    updates.push_back(u);
  }
  enc.Encode(updates);
  StateSizes sizes;
  std::vector<std::string> compact, legacy;
  std::map<std::string, double> fields;
  for (auto& s : w.states) {
    compact.push_back(state::EncodeVisitor(s));
    legacy.emplace_back();
    state::EncodeLegacyVisitor(s, &legacy.back());
    sizes.event_keys += 8.0 * s.events_size();
    sizes.embedding += static_cast<double>(s.embedding().size());
    AddFieldBytes(compact.back(), &fields);
  }
  for (const auto& [name, bytes] : fields) sizes.fields.emplace_back(name, bytes / visitors);
  sizes.event_keys /= visitors;
  sizes.embedding /= visitors;

  auto on_disk = [&](const std::vector<std::string>& values, bool zstd) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("intentstream-bench-state-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    rocksdb::Options options;
    options.create_if_missing = true;
    if (zstd) options.compression = rocksdb::kZSTD;
    rocksdb::DB* raw = nullptr;
    double bytes = -1;
    if (rocksdb::DB::Open(options, dir.string(), &raw).ok()) {
      std::unique_ptr<rocksdb::DB> db(raw);
      for (size_t v = 0; v < w.ids.size(); ++v)
        db->Put(rocksdb::WriteOptions(), w.ids[v], values[v]);
      db->Flush(rocksdb::FlushOptions());
      db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
      uint64_t sst = 0;
      db->GetIntProperty("rocksdb.total-sst-files-size", &sst);
      bytes = static_cast<double>(sst) / visitors;
    }
    std::filesystem::remove_all(dir);
    return bytes;
  };
  auto measure = [&](const std::vector<std::string>& values) {
    FormatBytes f;
    for (const auto& v : values) f.serialized += static_cast<double>(v.size());
    f.serialized /= visitors;
    f.on_disk = on_disk(values, false);
    f.on_disk_zstd = on_disk(values, true);
    return f;
  };
  sizes.compact = measure(compact);
  sizes.legacy = measure(legacy);
  return sizes;
}

void PrintStateBytes(const StateSizes& s) {
  std::printf("| state bytes per visitor, serialized (64 events)      | %12.0f |\n",
              s.compact.serialized);
  std::printf("|     of which event keys (8 bytes each) / embedding   | %5.0f / %4.0f |\n",
              s.event_keys, s.embedding);
  double sum = 0;
  for (const auto& [name, bytes] : s.fields) {
    std::printf("|       %-46s | %12.1f |\n", name.c_str(), bytes);
    sum += bytes;
  }
  if (!s.fields.empty()) {
    std::printf("|       %-46s | %12.1f |\n", "(sum of the fields above)", sum);
  }
  std::printf("|     previous format (0), same run                    | %12.0f |\n",
              s.legacy.serialized);
  std::printf("|     previous / stored                                | %11.2fx |\n",
              s.legacy.serialized / s.compact.serialized);
  std::printf("| state bytes per visitor, RocksDB SST, default (Snappy)| %11.0f |\n",
              s.compact.on_disk);
  std::printf("|     previous format (0), same run                    | %12.0f |\n",
              s.legacy.on_disk);
  std::printf("| state bytes per visitor, RocksDB SST, ZSTD           | %12.0f |\n",
              s.compact.on_disk_zstd);
  std::printf("|     previous format (0), same run                    | %12.0f |\n",
              s.legacy.on_disk_zstd);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir;
  int visitors = 4096;
  int batch = 512;
  bool quick = false;
  bool profile_only = false;
  bool state_only = false;
  CLI::App app{"intentstream-bench-encoder: single-thread throughput of the session encoder"};
  app.add_option("--model", model_dir, "model directory (default: a random model)");
  app.add_option("--visitors", visitors, "visitors")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app.add_option("--batch", batch, "visitors per encoder call")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app.add_flag("--quick", quick, "shorter timings");
  app.add_flag("--state-bytes", state_only, "only the state size table");
  app.add_flag("--profile-incremental", profile_only, "only the incremental phase, for a profiler");
  CLI11_PARSE(app, argc, argv);
  try {
    // One thread for everything: the figures are per core.
    model::SetComputeThreads(1);
    const auto blas = model::ProbeBlas(256, 0.1);
    std::shared_ptr<model::SessionModel> m =
        model_dir.empty() ? RandomModel() : model::SessionModel::Load(model_dir);
    std::printf("model: %s (d=%d layers=%d heads=%d ffn=%d window=%d stride=%d)\n",
                m->version().c_str(), m->config().encoder.d_model, m->config().encoder.layers,
                m->config().encoder.heads, m->config().encoder.ffn, m->config().encoder.window,
                m->config().encoder.window_stride);
    std::printf("%s\n", blas.Summary().c_str());
    const double peak = model::MeasureMatmulGflops(512, quick ? 0.2 : 1.0);
    const double peak_small = model::MeasureMatmulGflops(64, quick ? 0.1 : 0.5);

    if (state_only) {
      std::printf("| measure                                              |        value |\n");
      std::printf("|------------------------------------------------------|--------------|\n");
      PrintStateBytes(StateBytes(*m, quick ? 500 : 2000));
      std::printf("\ngoal: state <= 1000 bytes serialized\n");
      return 0;
    }
    const int window = m->config().encoder.window;
    const int stride = m->config().encoder.window_stride;
    if (profile_only) {
      Workload w(visitors, window);
      model::IncrementalEncoder enc(
          m, model::IncrementalEncoderOptions{static_cast<size_t>(visitors)});
      for (int i = 0; i < 8; ++i) {
        for (size_t v = 0; v < w.ids.size(); ++v) w.Append(v);
      }
      Run(*m, enc, w, 1, batch);
      const RunResult r = Run(*m, enc, w, window - stride - 9, batch);
      std::printf("incremental: %.0f updates/s, %.2f GFLOP/s\n", r.updates_per_s, r.gflops);
      return 0;
    }
    // (b) every event re-encodes the visitor's whole window: the training forward over a
    // padded batch of visitors, as a request-time re-encoding system would run it.
    Workload wb(quick ? 512 : 1024, window);
    for (int i = 0; i < window; ++i) {
      for (size_t v = 0; v < wb.ids.size(); ++v) wb.Append(v);
    }
    double b_batched = 0;
    {
      const int rounds = quick ? 1 : 2;
      const auto t0 = Clock::now();
      int64_t n = 0;
      std::vector<model::EventPtrs> lists;
      for (int r = 0; r < rounds; ++r) {
        for (size_t b0 = 0; b0 < wb.ids.size(); b0 += static_cast<size_t>(batch)) {
          lists.clear();
          for (size_t v = b0; v < std::min(wb.ids.size(), b0 + static_cast<size_t>(batch)); ++v) {
            wb.Append(v);
            lists.emplace_back(wb.states[v].events().data(),
                               static_cast<size_t>(wb.states[v].events_size()));
          }
          const auto out = m->EncodeFullBatch(lists);
          for (size_t i = 0; i < out.size(); ++i) {
            wb.states[b0 + i].set_embedding(out[i].data(), out[i].size() * sizeof(float));
          }
          n += static_cast<int64_t>(lists.size());
        }
      }
      b_batched = static_cast<double>(n) / Seconds(t0);
    }
    // (b') the same, one visitor per forward pass.
    double b_single = 0;
    {
      const auto t0 = Clock::now();
      const int n = quick ? 100 : 400;
      for (int i = 0; i < n; ++i) {
        const auto& s = wb.states[static_cast<size_t>(i) % wb.states.size()];
        m->EncodeFull(model::EventPtrs(s.events().data(), static_cast<size_t>(s.events_size())));
      }
      b_single = n / Seconds(t0);
    }
    // (b'') the serving path with its cache disabled: rebuilds the window on every event.
    model::IncrementalEncoder nocache(m, model::IncrementalEncoderOptions{0});
    const RunResult b_nocache = Run(*m, nocache, wb, 1, batch);
    const double b_best = std::max({b_batched, b_single, b_nocache.updates_per_s});
    // (c1) incremental, windows filling: visitors between 8 and window - stride events.
    const int vis = quick ? 1024 : visitors;
    Workload w1(vis, window);
    model::IncrementalEncoder inc1(m, model::IncrementalEncoderOptions{static_cast<size_t>(vis)});
    for (int i = 0; i < 8; ++i) {
      for (size_t v = 0; v < w1.ids.size(); ++v) w1.Append(v);
    }
    Run(*m, inc1, w1, 1, batch);  // warm the caches (untimed)
    const RunResult c1 = Run(*m, inc1, w1, window - stride - 9, batch);
    // (c2) incremental at overflow: states hold `window` events, the window re-anchors.
    Workload w2(vis, window);
    model::IncrementalEncoder inc2(m, model::IncrementalEncoderOptions{static_cast<size_t>(vis)});
    for (int i = 0; i < window; ++i) {
      for (size_t v = 0; v < w2.ids.size(); ++v) w2.Append(v);
    }
    Run(*m, inc2, w2, 1, batch);
    const RunResult c2 = Run(*m, inc2, w2, quick ? 8 : 32, batch);
    const StateSizes state_sizes = StateBytes(*m, quick ? 500 : 2000);

    std::printf("\nsingle thread, batch %d visitors per Encode(), %d visitors\n\n", batch, vis);
    std::printf("| measure                                              |        value |\n");
    std::printf("|------------------------------------------------------|--------------|\n");
    std::printf("| (a) matmul 512x512 float32, GFLOP/s                  | %12.1f |\n", peak);
    std::printf("|     matmul 64x64 float32, GFLOP/s                    | %12.1f |\n", peak_small);
    std::printf("| (b) full re-encode per event, batched forward, upd/s | %12.0f |\n", b_batched);
    std::printf("|     full re-encode, one visitor per forward, upd/s   | %12.0f |\n", b_single);
    std::printf("|     serving path with the cache off, updates/s       | %12.0f |\n",
                b_nocache.updates_per_s);
    std::printf("| (c) incremental, window filling, updates/s           | %12.0f |\n",
                c1.updates_per_s);
    std::printf("|     positions computed per update                    | %12.2f |\n",
                c1.positions_per_update);
    std::printf("|     achieved GFLOP/s                                 | %12.2f |\n", c1.gflops);
    std::printf("|     fraction of (a)                                  | %11.1f%% |\n",
                100 * c1.gflops / peak);
    std::printf("|     speed-up over the best (b)                       | %11.1fx |\n",
                c1.updates_per_s / b_best);
    std::printf("| (c) incremental, at window overflow, updates/s       | %12.0f |\n",
                c2.updates_per_s);
    std::printf("|     positions computed per update                    | %12.2f |\n",
                c2.positions_per_update);
    std::printf("|     achieved GFLOP/s                                 | %12.2f |\n", c2.gflops);
    std::printf("|     fraction of (a)                                  | %11.1f%% |\n",
                100 * c2.gflops / peak);
    std::printf("|     speed-up over the best (b)                       | %11.1fx |\n",
                c2.updates_per_s / b_best);
    PrintStateBytes(state_sizes);
    std::printf("\ngoals: (c) >= 20x (b); (c) >= 100000 updates/s; state <= 1000 bytes\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "intentstream-bench-encoder: %s\n", e.what());
    return 1;
  }
  return 0;
}
