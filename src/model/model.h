// Front door of the session model: load, save, and encode a window in one full pass.
// No torch includes (pimpl); the processor includes this and incremental_encoder.h.
//
// Thread-safety: a loaded SessionModel is immutable and its const methods may be called
// from several threads; the incremental encoder holds a shared_ptr to it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "intentstream/v1/state.pb.h"
#include "model/model_config.h"
#include "model/tokenizer.h"

namespace intentstream::model {

class SessionModel {
 public:
  // Reads an artifact directory (model_config.h). Throws ModelError naming the file and
  // key when the config, a vocabulary and the weights disagree.
  static std::shared_ptr<SessionModel> Load(const std::string& dir);
  // A freshly initialised model (weights drawn from config.seed), for training and tests.
  static std::shared_ptr<SessionModel> Create(ModelConfig config, Tokenizer tokenizer);
  ~SessionModel();
  SessionModel(const SessionModel&) = delete;
  SessionModel& operator=(const SessionModel&) = delete;

  // Writes config, vocabularies, path rules and weights (not the model card).
  void Save(const std::string& dir) const;

  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const;
  const std::string& version() const;
  void set_version(std::string version);
  int embedding_dim() const;

  // The session embedding of `events` (ascending, as in VisitorState.events): the window
  // policy picks the window, every position is encoded in one causal pass, and the last
  // position's output is L2-normalised. Empty input gives an empty vector. This is the
  // reference the incremental path must match.
  std::vector<float> EncodeFull(EventPtrs events) const;
  std::vector<float> EncodeFull(std::span<const v1::SessionEvent> events) const {
    const auto ptrs = PointersTo(events);
    return EncodeFull(EventPtrs(ptrs));
  }

  // EncodeFull of several visitors in one padded batch (one forward pass).
  std::vector<std::vector<float>> EncodeFullBatch(std::span<const EventPtrs> visitors) const;

  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  explicit SessionModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace intentstream::model
