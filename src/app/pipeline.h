// The stages behind the streaming core, built from the processor's options: the
// catalogue, the session encoder (model.dir), the intent head, the offer model and the
// decision operator (decision.*, llm.*). `intentstream run` and the benches build the
// same thing through here.
//
// Loaded once per process: the catalogue and the immutable models (intent head, offer
// model). Per processing thread (Factory()): a session encoder on its own copy of the
// weights, a decision operator with its own chat client and metrics handle, and the
// `--decisions-out` copy, whose one file the threads share.
//
// Thread-safety: construct and call Factory()'s result on one thread (the processor does,
// before its threads start); RequestReload() and decisions_written() from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/logging.h"
#include "runtime/options.h"
#include "runtime/processor.h"

namespace prometheus {
class Registry;
}

namespace intentstream::catalog {
class Catalog;
}

namespace intentstream::app {

struct PipelineOptions {
  // Appends every decision to this JSON-lines file (runtime/decision_log.h); empty: none.
  std::string decisions_out;
  // Without a decision operator (the streaming core alone: ingest benches).
  bool decide = true;
};

class Pipeline {
 public:
  // The configuration keys the stages read (decision.*, llm.*), for
  // runtime::LoadProcessorOptions to accept them.
  static std::vector<std::string> StageKeys();

  // Loads the catalogue and the models and checks the stages' options against them.
  // Throws ConfigError naming the key (or file and line) for bad configuration.
  Pipeline(const runtime::ProcessorOptions& options, LogSink* sink,
           std::shared_ptr<prometheus::Registry> registry, PipelineOptions extra = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Builds one processing thread's stages; the Pipeline must outlive what it returns.
  runtime::StageFactory Factory();

  // SIGHUP: every thread's operator re-reads the catalogue directory at its next step.
  void RequestReload();

  const catalog::Catalog& catalog() const;
  std::string encoder_version() const;  // empty without model.dir
  uint64_t decisions_written() const;   // to decisions_out
  const std::string& decisions_out() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace intentstream::app
