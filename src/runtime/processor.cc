#include "runtime/processor.h"

#include <prometheus/registry.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "common/config.h"
#include "runtime/decision_lookup.h"
#include "runtime/standby_follower.h"
#include "runtime/stream_thread.h"
#include "runtime/thread_board.h"
#include "runtime/visitor_lookup.h"
#include "serve/http_server.h"
#include "serve/metrics_endpoint.h"
#include "serve/processor_probe.h"
#include "state/store.h"

#ifndef INTENTSTREAM_VERSION
#define INTENTSTREAM_VERSION "dev"
#endif

namespace intentstream::runtime {

namespace {
// An exception's message, for the log (rethrown later by Run()).
std::string What(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}
}  // namespace

namespace {

using Clock = std::chrono::steady_clock;

serve::HttpServerOptions HttpOptions(const ProcessorOptions& o) {
  serve::HttpServerOptions h;
  h.listen = o.http_listen;
  h.max_connections = o.http_max_connections;
  h.max_data_requests = o.http_threads;
  h.read_timeout_ms = o.http_read_timeout_ms;
  h.write_timeout_ms = o.http_write_timeout_ms;
  h.bearer_token = o.http_auth_token;
  h.tls_cert_file = o.http_tls_cert_file;
  h.tls_key_file = o.http_tls_key_file;
  return h;
}

}  // namespace

class Processor::Impl {
 public:
  Impl(Processor* owner, ProcessorOptions options, std::string bootstrap, LogSink* sink,
       std::shared_ptr<prometheus::Registry> registry, StageFactory stages, int max_threads)
      : owner_(owner),
        options_(std::move(options)),
        bootstrap_(std::move(bootstrap)),
        sink_(sink),
        log_(sink, "processor"),
        registry_(std::move(registry)),
        stages_(std::move(stages)),
        max_threads_(max_threads),
        store_(options_.store),
        probe_(*registry_, TopicLabels(options_.topics), OutputTopics(options_.topics),
               Processor::Version()),
        lookup_(store_, options_.topics.web, options_.topics.app, options_.validation.max_id_bytes,
                Ownership{[this](const std::string& topic, int32_t partition) {
                            return board_.Owned(topic, partition);
                          },
                          [this] { return owner_->ready() ? partition_count_.load() : 0; }}),
        decisions_lookup_(
            store_, options_.topics.app, options_.validation.max_id_bytes,
            Ownership{[this](const std::string& topic, int32_t partition) {
                        return board_.Owned(topic, partition);
                      },
                      [this] { return owner_->ready() ? partition_count_.load() : 0; }}) {
    if (options_.standby_replicas > 0 && !options_.changelog) {
      throw ConfigError("state.standby_replicas",
                        "standby replicas follow the changelog topics: needs state.changelog=true");
    }
    const auto& rec = store_.recovery();
    log_.Info(rec.created ? "state created" : "state recovered",
              {{"dir", options_.store.dir},
               {"last_sequence", std::to_string(rec.last_sequence)},
               {"partitions_with_offsets", std::to_string(rec.offsets)},
               {"estimated_visitors", std::to_string(rec.estimated_sessions)}});
    // The first thread's clients now: bad Kafka properties fail at construction.
    threads_.push_back(std::make_unique<StreamThread>(0, Context(), MakeStages(0)));
    if (!options_.http_listen.empty()) StartHttp();
  }

  ~Impl() { http_.Stop(); }

  static std::vector<std::string> OutputTopics(const TopicNames& t) {
    return {t.dead_letters, t.handoff, t.decisions, t.triggers};
  }

  static serve::InputTopicNames TopicLabels(const TopicNames& t) {
    serve::InputTopicNames names;
    names.by_kind = {t.web, t.app, t.links, t.profiles, t.handoff};
    return names;
  }

  RunSummary Run(const std::atomic<bool>& stop) {
    const auto started = Clock::now();
    const int32_t partitions = threads_.front()->CheckCopartitioning();
    partition_count_ = partitions;
    probe_.SetTaskCount(partitions);
    if (options_.changelog && partitions <= 0) {
      throw std::runtime_error(
          "state.changelog needs the input topics to exist: the changelog topics are "
          "partitioned like them");
    }
    const int n = ThreadCount(partitions);
    board_.SetThreads(n);
    for (int i = 1; i < n; ++i) {
      threads_.push_back(std::make_unique<StreamThread>(i, Context(), MakeStages(i)));
    }
    for (auto& t : threads_) t->SetPartitionCount(partitions);
    if (options_.changelog) threads_.front()->CheckChangelogTopics();
    log_.Info("processing threads",
              {{"threads", std::to_string(n)}, {"partitions", std::to_string(partitions)}});

    std::unique_ptr<StandbyFollower> standby;
    if (options_.standby_replicas > 0) {
      standby = std::make_unique<StandbyFollower>(options_, bootstrap_, store_, probe_, board_,
                                                  partitions, sink_);
    }
    std::vector<RunSummary> summaries(threads_.size());
    std::vector<std::exception_ptr> errors(threads_.size());
    std::vector<std::thread> workers;
    for (size_t i = 0; i < threads_.size(); ++i) {
      workers.emplace_back([this, i, &summaries, &errors] {
        try {
          summaries[i] = threads_[i]->Run();
        } catch (...) {
          errors[i] = std::current_exception();
          log_.Error("processing thread failed; stopping the others",
                     {{"thread", std::to_string(i)}, {"error", What(errors[i])}});
          board_.RequestStop();  // the others commit what they applied and leave
        }
        std::lock_guard lock(done_mu_);
        ++done_count_;
        done_cv_.notify_all();
      });
    }
    // This thread forwards the stop request and keeps the process-wide gauges.
    auto next_metrics = Clock::now();
    size_t finished = 0;
    while (finished < workers.size()) {
      if (stop.load()) board_.RequestStop();
      if (Clock::now() >= next_metrics) {
        RefreshStateMetrics();
        next_metrics = Clock::now() + std::chrono::milliseconds(options_.metrics_interval_ms);
      }
      std::unique_lock lock(done_mu_);
      done_cv_.wait_for(lock, std::chrono::milliseconds(10));
      finished = done_count_;
    }
    for (auto& w : workers) w.join();
    if (standby) standby->Stop();
    store_.Flush();
    RefreshStateMetrics();
    for (const auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
    RunSummary total = Merge(summaries);
    total.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return total;
  }

  int http_port() const { return http_.port(); }
  state::StateStore& store() { return store_; }

 private:
  int ThreadCount(int32_t partitions) const {
    int n = options_.threads > 0
                ? options_.threads
                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    n = std::min(n, max_threads_);
    if (partitions > 0) n = std::min(n, static_cast<int>(partitions));
    return std::max(1, n);
  }

  ThreadContext Context() {
    return ThreadContext{.options = &options_,
                         .bootstrap = bootstrap_,
                         .sink = sink_,
                         .store = &store_,
                         .probe = &probe_,
                         .board = &board_,
                         .version = Processor::Version()};
  }

  ThreadStages MakeStages(int thread) {
    ThreadStages stages = stages_ ? stages_(thread) : ThreadStages{};
    if (stages.encoder != nullptr && thread == 0)
      probe_.ModelVersion(stages.encoder->model_version());
    return stages;
  }

  RunSummary Merge(const std::vector<RunSummary>& parts) const {
    RunSummary t;
    t.threads = static_cast<int>(parts.size());
    t.stop_reason = board_.all_idle() ? "idle" : "stopped";
    std::optional<Clock::time_point> first, last;
    for (size_t i = 0; i < parts.size(); ++i) {
      const auto& p = parts[i];
      t.counts += p.counts;
      t.commits += p.commits;
      t.outputs += p.outputs;
      t.restored_records += p.restored_records;
      t.restore_seconds += p.restore_seconds;
      t.changelog_records += p.changelog_records;
      t.delivery.delivered += p.delivery.delivered;
      t.delivery.retried += p.delivery.retried;
      t.delivery.undeliverable += p.delivery.undeliverable;
      t.delivery.dead_letters_failed += p.delivery.dead_letters_failed;
      t.scheduler.idle_waits += p.scheduler.idle_waits;
      t.scheduler.enforced += p.scheduler.enforced;
      t.scheduler.late += p.scheduler.late;
      const auto& thread = *threads_[i];
      if (thread.received_any() && p.commits > 0) {
        if (!first || thread.first_message() < *first) first = thread.first_message();
        if (!last || thread.last_commit() > *last) last = thread.last_commit();
      }
    }
    if (first && last) t.active_seconds = std::chrono::duration<double>(*last - *first).count();
    return t;
  }

  void RefreshStateMetrics() {
    const auto s = store_.Stats();
    probe_.State({static_cast<double>(s.live_data_bytes), static_cast<double>(s.sst_bytes),
                  static_cast<double>(s.memtable_bytes), static_cast<double>(s.estimated_sessions),
                  static_cast<double>(s.pending_compaction_bytes), s.write_stopped ? 1.0 : 0.0});
  }

  void StartHttp() {
    using serve::RouteClass;
    http_.Route("/metrics", RouteClass::kOps, serve::MetricsHandler(registry_));
    http_.Route("/healthz", RouteClass::kOps, [](const serve::HttpRequest&) {
      return serve::HttpResponse{200, "application/json", "{\"status\":\"ok\"}"};
    });
    http_.Route("/v1/visitors/", RouteClass::kData,
                [this](const serve::HttpRequest& r) { return lookup_.Handle(r, "/v1/visitors/"); });
    http_.Route("/v1/decisions/", RouteClass::kData, [this](const serve::HttpRequest& r) {
      return decisions_lookup_.Handle(r, "/v1/decisions/");
    });
    http_.Route("/readyz", RouteClass::kOps, [this](const serve::HttpRequest&) {
      const bool ready = owner_->ready();
      nlohmann::json body;
      const auto restoring = board_.restoring();
      if (!restoring.empty()) {
        body["status"] = "not ready: restoring state from the changelog";
        auto& list = body["restoring"] = nlohmann::json::array();
        for (const auto& [partition, p] : restoring) {
          list.push_back({{"partition", partition},
                          {"restored_records", p.first},
                          {"remaining_records", p.second}});
        }
      }
      if (body.empty()) {
        body["status"] = ready ? "ready" : "not ready: no partitions assigned";
      }
      return serve::HttpResponse{ready ? 200 : 503, "application/json", body.dump()};
    });
    http_.Start(HttpOptions(options_));
    log_.Info("http endpoint listening",  // never the token
              {{"address", options_.http_listen},
               {"port", std::to_string(http_.port())},
               {"tls", http_.tls() ? "on" : "off"},
               {"lookup_auth", options_.http_auth_token.empty() ? "off" : "bearer token"}});
  }

  Processor* owner_;
  ProcessorOptions options_;
  std::string bootstrap_;
  LogSink* sink_;
  Logger log_;
  std::shared_ptr<prometheus::Registry> registry_;
  StageFactory stages_;
  int max_threads_;
  state::StateStore store_;
  serve::ProcessorProbe probe_;
  std::atomic<int32_t> partition_count_{0};
  ThreadBoard board_{1, [this](bool ready) {
                       owner_->ready_ = ready;
                       probe_.Ready(ready);
                     }};
  std::vector<std::unique_ptr<StreamThread>> threads_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  size_t done_count_ = 0;
  VisitorLookup lookup_;
  DecisionLookup decisions_lookup_;
  serve::HttpServer http_;  // last: its handlers use the members above
};

Processor::Processor(ProcessorOptions options, std::string bootstrap_servers, LogSink* log_sink,
                     std::shared_ptr<prometheus::Registry> registry, StageFactory stages)
    : impl_(std::make_unique<Impl>(this, std::move(options), std::move(bootstrap_servers), log_sink,
                                   std::move(registry), std::move(stages), 1 << 16)) {}

Processor::Processor(ProcessorOptions options, std::string bootstrap_servers, LogSink* log_sink,
                     std::shared_ptr<prometheus::Registry> registry, op::SessionEncoder* encoder,
                     op::DecisionOperator* decision_operator)
    : impl_(std::make_unique<Impl>(
          this, std::move(options), std::move(bootstrap_servers), log_sink, std::move(registry),
          [encoder, decision_operator](int) {
            return ThreadStages{
                .encoder = encoder, .decision_operator = decision_operator, .owner = {}};
          },
          // One instance of each stage serves one thread only.
          encoder != nullptr || decision_operator != nullptr ? 1 : 1 << 16)) {}

Processor::~Processor() = default;

RunSummary Processor::Run(const std::atomic<bool>& stop) {
  return impl_->Run(stop);
}
int Processor::http_port() const {
  return impl_->http_port();
}
state::StateStore& Processor::store() {
  return impl_->store();
}
std::string Processor::Version() {
  return INTENTSTREAM_VERSION;
}

}  // namespace intentstream::runtime
