#include "app/pipeline.h"

#include <prometheus/registry.h>

#include <map>
#include <optional>

#include "app/llm_chat_bridge.h"
#include "catalog/catalog.h"
#include "common/config.h"
#include "decide/decision_operator.h"
#include "llm/chat_client.h"
#include "model/blas_probe.h"
#include "model/incremental_encoder.h"
#include "model/intent_head.h"
#include "model/model.h"
#include "model/offer_model.h"
#include "runtime/decision_log.h"
#include "serve/decision_probe.h"

namespace intentstream::app {

namespace {

// What one processing thread's stages point at.
struct ThreadParts {
  std::unique_ptr<model::IncrementalEncoder> encoder;
  std::unique_ptr<LlmChatBridge> chat;
  // Per thread: its label sets are built when its operator loads a catalogue, which must
  // not race with another thread's recording. Same registry, so the series are shared.
  std::unique_ptr<serve::DecisionProbe> probe;
  std::unique_ptr<decide::DecisionOperator> decision_operator;
  std::unique_ptr<runtime::DecisionLog> log;
  std::atomic<bool> reload{false};
};

}  // namespace

class Pipeline::Impl {
 public:
  Impl(const runtime::ProcessorOptions& options, LogSink* sink,
       std::shared_ptr<prometheus::Registry> registry, PipelineOptions extra)
      : options_(options), sink_(sink), registry_(std::move(registry)), extra_(std::move(extra)) {
    Logger log(sink_, "main");
    std::map<std::string, std::string> decision_properties;
    for (const auto& [key, value] : options_.stage_properties) {
      (key.rfind("llm.", 0) == 0 ? llm_properties_ : decision_properties)[key] = value;
    }
    decision_options_ = decide::LoadDecisionOptions(decision_properties);
    // The catalogue fails fast at start, naming file, line and field.
    catalog_ = decision_options_.catalog_dir.empty()
                   ? catalog::DefaultCatalog()
                   : catalog::LoadCatalog(decision_options_.catalog_dir);
    decide::DecisionOperator::CheckOptions(decision_options_, *catalog_);
    if (decision_options_.rephrase.enabled) {
      // Fails fast on bad llm.* keys; each thread then gets a client of its own.
      (void)llm::LoadChatOptions(llm_properties_);
    }
    if (extra_.decide) {
      log.Info("catalogue loaded", {{"version", catalog_->version()},
                                    {"taxonomy", catalog_->taxonomy_version()},
                                    {"origin", catalog_->origin()},
                                    {"offers", std::to_string(catalog_->offers().size())}});
    }
    LoadModels(log);
    if (!extra_.decisions_out.empty()) {
      decisions_file_ = std::make_shared<runtime::DecisionFile>(extra_.decisions_out);
    }
  }

  runtime::ThreadStages Make(int thread) {
    auto parts = std::make_shared<ThreadParts>();
    runtime::ThreadStages stages;
    if (session_model_) {
      model::IncrementalEncoderOptions encoder_options;
      encoder_options.cache_capacity = options_.model_cache_visitors;
      parts->encoder = std::make_unique<model::IncrementalEncoder>(session_model_, encoder_options);
      stages.encoder = parts->encoder.get();
    }
    if (extra_.decide) {
      decide::DecisionModels models;
      if (decision_options_.rephrase.enabled) {
        parts->chat = std::make_unique<LlmChatBridge>(llm::LoadChatOptions(llm_properties_));
        models.chat = parts->chat.get();
        if (thread == 0) {
          Logger(sink_, "main")
              .Info("message rephrasing on", {{"endpoint", parts->chat->options().url}});
        }
      }
      models.encoder_version = encoder_version();
      models.propensity = offer_model_.get();
      models.intents = intent_head_.get();
      parts->probe = std::make_unique<serve::DecisionProbe>(*registry_);
      parts->decision_operator = std::make_unique<decide::DecisionOperator>(
          decision_options_, catalog_, models, parts->probe.get(), Logger(sink_, "decide"),
          &parts->reload);
      stages.decision_operator = parts->decision_operator.get();
      if (decisions_file_) {
        parts->log =
            std::make_unique<runtime::DecisionLog>(*parts->decision_operator, decisions_file_);
        stages.decision_operator = parts->log.get();
      }
    }
    {
      std::lock_guard lock(threads_mu_);
      threads_.push_back(parts);
    }
    stages.owner = std::move(parts);
    return stages;
  }

  void RequestReload() {
    std::lock_guard lock(threads_mu_);
    for (const auto& weak : threads_) {
      if (auto parts = weak.lock()) parts->reload = true;
    }
  }

  const catalog::Catalog& catalog() const { return *catalog_; }
  std::string encoder_version() const {
    return session_model_ ? session_model_->version() : std::string();
  }
  uint64_t decisions_written() const { return decisions_file_ ? decisions_file_->written() : 0; }
  const std::string& decisions_out() const { return extra_.decisions_out; }

 private:
  void LoadModels(const Logger& log) {
    if (!options_.model_dir.empty()) {
      // LibTorch's own pool would compete with the processing threads for the cores.
      model::SetComputeThreads(1);
      const auto blas = model::ProbeBlas();
      if (blas.reference_blas) {
        log.Error(
            "SLOW REFERENCE BLAS IN USE: embeddings will be ~20x slower; install "
            "libopenblas0-openmp (tools/setup.sh)",
            {{"blas", blas.Summary()}});
      } else {
        log.Info("blas", {{"summary", blas.Summary()}});
      }
      session_model_ = model::SessionModel::Load(options_.model_dir);
      log.Info("session encoder loaded",
               {{"model_version", session_model_->version()}, {"dir", options_.model_dir}});
    }
    // The distilled intent head, scored per step on the encoder's embeddings; without it
    // the decision stage scores intents with the taxonomy's rules.
    if (!options_.intent_head_dir.empty()) {
      if (!session_model_) {
        throw ConfigError("model.intent_head_dir", "needs model.dir: the head reads embeddings");
      }
      intent_head_ = model::IntentHead::Load(options_.intent_head_dir);
      if (intent_head_->config().encoder_version != session_model_->version()) {
        throw ConfigError("model.intent_head_dir", "the head in '" + options_.intent_head_dir +
                                                       "' reads embeddings of encoder " +
                                                       intent_head_->config().encoder_version +
                                                       ", model.dir has " +
                                                       session_model_->version());
      }
      if (intent_head_->config().taxonomy_version != catalog_->taxonomy_version()) {
        log.Warn(
            "intent head trained on another taxonomy version; intents it lacks keep their "
            "rule scores",
            {{"head_taxonomy", intent_head_->config().taxonomy_version},
             {"catalogue_taxonomy", catalog_->taxonomy_version()}});
      }
      log.Info("intent head loaded", {{"version", intent_head_->version()},
                                      {"teacher", intent_head_->config().teacher},
                                      {"dir", options_.intent_head_dir}});
    }
    if (!options_.offer_model_dir.empty()) {
      offer_model_ = model::OfferModel::Load(options_.offer_model_dir);
      const std::string& trained_with = offer_model_->spec().encoder_version;
      if (!trained_with.empty() && session_model_ && trained_with != session_model_->version()) {
        log.Warn("offer model was trained on another session encoder's embeddings; retrain it",
                 {{"offer_model", offer_model_->version()},
                  {"trained_with", trained_with},
                  {"encoder", session_model_->version()}});
      }
      log.Info("offer model loaded",
               {{"model_version", offer_model_->version()},
                {"dir", options_.offer_model_dir},
                {"personas", std::to_string(offer_model_->personas().size())}});
    }
  }

  runtime::ProcessorOptions options_;
  LogSink* sink_;
  std::shared_ptr<prometheus::Registry> registry_;
  PipelineOptions extra_;
  std::map<std::string, std::string> llm_properties_;
  decide::DecisionOptions decision_options_;
  std::shared_ptr<const catalog::Catalog> catalog_;
  std::shared_ptr<const model::SessionModel> session_model_;
  std::shared_ptr<model::IntentHead> intent_head_;
  std::shared_ptr<model::OfferModel> offer_model_;
  std::shared_ptr<runtime::DecisionFile> decisions_file_;
  std::mutex threads_mu_;  // guards threads_: RequestReload runs on the signal thread
  std::vector<std::weak_ptr<ThreadParts>> threads_;
};

std::vector<std::string> Pipeline::StageKeys() {
  std::vector<std::string> keys;
  for (const auto& spec : decide::DecisionOptionSpecs()) {
    if (spec.apply) keys.push_back(spec.key);
  }
  // The chat-completions endpoint of decision.messages.rephrase (llm.*, docs/intents.md).
  for (const auto& spec : llm::ChatOptionSpecs()) keys.push_back(spec.key);
  return keys;
}

Pipeline::Pipeline(const runtime::ProcessorOptions& options, LogSink* sink,
                   std::shared_ptr<prometheus::Registry> registry, PipelineOptions extra)
    : impl_(std::make_unique<Impl>(options, sink, std::move(registry), std::move(extra))) {}

Pipeline::~Pipeline() = default;

runtime::StageFactory Pipeline::Factory() {
  return [this](int thread) { return impl_->Make(thread); };
}

void Pipeline::RequestReload() {
  impl_->RequestReload();
}
const catalog::Catalog& Pipeline::catalog() const {
  return impl_->catalog();
}
std::string Pipeline::encoder_version() const {
  return impl_->encoder_version();
}
uint64_t Pipeline::decisions_written() const {
  return impl_->decisions_written();
}
const std::string& Pipeline::decisions_out() const {
  return impl_->decisions_out();
}

}  // namespace intentstream::app
