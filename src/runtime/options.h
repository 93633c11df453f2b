// Everything the processor can be configured with. Each field documents its default and
// unit; `ProcessorOptionSpecs()` is the single table that parses, validates and prints
// them (`intentstream help-config`, docs/configuration.md).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "ingest/decoder.h"
#include "state/changelog.h"
#include "state/store.h"
#include "state/visitor_state.h"

namespace intentstream::runtime {

struct TopicNames {
  std::string web = "web-events";              // input, key: anonymous_id
  std::string app = "app-events";              // input, key: customer_id
  std::string links = "identity-links";        // input, key: anonymous_id
  std::string profiles = "customer-profiles";  // input (compacted), key: customer_id
  // Internal repartition topic, key: customer_id; by default named after the consumer
  // group (HandoffTopicFor), as Kafka Streams names its internal topics.
  std::string handoff = "intentstream-identity-handoff";
  std::string decisions = "decisions";        // output
  std::string triggers = "triggers";          // output
  std::string dead_letters = "dead-letters";  // output
  // Changelog topics (state.changelog) are "<changelog_group>-<store>-changelog": the
  // consumer group id (state/changelog.h).
  std::string changelog_group = "intentstream";

  // Every topic the processor reads or writes (what an embedded cluster creates).
  std::vector<std::string> All() const {
    std::vector<std::string> all = {web,     app,       links,    profiles,
                                    handoff, decisions, triggers, dead_letters};
    for (const state::Cf cf : state::ChangelogStores()) {
      all.push_back(state::ChangelogTopic(changelog_group, cf));
    }
    return all;
  }
};

// The hand-off topic of a consumer group: "<group>-identity-handoff".
inline std::string HandoffTopicFor(const std::string& group_id) {
  return group_id + "-identity-handoff";
}

struct ProcessorOptions {
  TopicNames topics;
  // Consumer group id. Default: "intentstream".
  std::string group_id = "intentstream";
  // librdkafka properties given as kafka.<name> (both clients), kafka.consumer.<name>,
  // kafka.producer.<name>; passed through untouched (TLS, SASL, tuning).
  std::map<std::string, std::string> kafka_common;
  std::map<std::string, std::string> kafka_consumer;
  std::map<std::string, std::string> kafka_producer;

  state::StoreOptions store{.dir = "./intentstream-state"};
  state::SessionPolicy session;
  ingest::ValidationOptions validation;

  // Decoded visitor states kept in memory between batches (LRU), so hot visitors are not
  // re-read and re-parsed from RocksDB. Cleared when partitions are revoked. 0 disables.
  // Default: 50000.
  size_t visitor_cache_entries = 50000;
  // State and offsets are committed at least this often, ms; changes in between stay in
  // memory (outputs are still delivered per poll). Longer intervals write hot visitors
  // less often; a crash re-reads at most this much input. Default: 100.
  int commit_interval_ms = 100;
  // Most visitors changed between commits before an early commit. Default: 50000.
  size_t commit_max_visitors = 50000;
  // Most messages applied as one poll batch. Default: 2000.
  int batch_max_messages = 2000;
  // Processing threads, each a consumer in the group with its own partitions, batch,
  // encoder and operator over the one state store (as Kafka Streams' stream threads).
  // 0 = the number of cores; never more than the input partitions. Default: 0.
  int threads = 0;
  // Longest wait for the first message of a batch, ms. Default: 100.
  int poll_timeout_ms = 100;
  // Longest wait for output delivery before a batch commits, ms. Default: 30000.
  int flush_timeout_ms = 30000;
  // With no local offset for a partition, read it from the beginning (rebuilding state
  // from the topic's retention) rather than from the group's committed offset.
  // Default: true.
  bool rebuild_from_beginning = true;
  // Write every state change to the compacted changelog topics before it commits, and
  // restore a partition whose local state is missing or behind from them on assignment
  // (docs/operations.md, "State, volumes and rebuilds"). Default: true.
  bool changelog = true;
  // Records per RocksDB write while restoring. Default: 5000.
  int restore_batch_records = 5000;
  // Standby replicas (runtime/standby_follower.h): follow the changelogs of the
  // partitions of the next N members, so a failover restores only the tail. Needs
  // `changelog`. Default: 0.
  int standby_replicas = 0;
  // Period of a standby's catch-up with its changelogs, ms. Default: 500.
  int standby_interval_ms = 500;
  // Apply each task's input in event-time order (EventTimeScheduler). Off only to
  // measure what ordering costs (the ingest benchmark). Default: true.
  bool event_time_order = true;
  // Longest wait for a partition that may hold older records, or for other tasks'
  // hand-off watermarks, before a task goes on without them, ms. 0 never waits (lowest
  // latency; decisions may then depend on fetch timing). Default: 500.
  int64_t max_task_idle_ms = 500;
  // How long a partition that reached its end still holds its task back, ms (producers
  // that batch per partition deliver partitions out of event-time order; 0 trusts the
  // end: lowest latency, and such records are applied late). Default: 0.
  int64_t end_wait_ms = 0;
  // After the consumer's queue runs dry, wait this long for the rest of a fetch response
  // before ordering what arrived (live traffic), ms. 0 = don't. Default: 2.
  int arrival_settle_ms = 2;
  // Least time between two hand-off watermark publications of a task, ms: bounds how
  // long the customer side waits for hand-offs, and the watermark records' cost.
  // Default: 10.
  int watermark_interval_ms = 10;
  // Exit once every assigned partition is at its end and nothing arrived for this long;
  // 0 = run until stopped. Default: 0.
  int64_t exit_when_idle_ms = 0;
  // After SIGTERM/SIGINT the process drains and exits within this bound, or exits anyway
  // (its state stands at the last commit). Default: 20000.
  int64_t shutdown_timeout_ms = 20000;
  // Period of lag and state-size metrics refresh, ms. Default: 1000.
  int metrics_interval_ms = 1000;

  // HTTP listen address for /metrics, /healthz, /readyz and /v1/...; empty disables.
  // Default: 127.0.0.1:9464.
  std::string http_listen = "127.0.0.1:9464";
  // Lookup API (/v1/...) requests handled at once; more are answered 503 at once, so
  // health and metrics never wait behind lookups. Default: 4.
  int http_threads = 4;
  // HTTP connections served at once (one thread each); more are answered 503 and
  // closed. Default: 64.
  int http_max_connections = 64;
  // A request must arrive in full within this many ms of its connection opening or of
  // the previous response (TLS handshake included); else 408 and closed. Default: 5000.
  int http_read_timeout_ms = 5000;
  // A response must be written within this many ms. Default: 5000.
  int http_write_timeout_ms = 5000;
  // File holding the bearer token that /v1/... requires (or kAuthTokenVariable).
  // Required when http_listen is not a loopback address. Default: none.
  std::string http_auth_token_file;
  // The token itself, loaded from http_auth_token_file or kAuthTokenVariable; never a
  // configuration key (secrets stay out of files and command lines) and never logged.
  std::string http_auth_token;
  // PEM certificate chain and private key: the HTTP port speaks TLS only. Default: none.
  std::string http_tls_cert_file;
  std::string http_tls_key_file;

  // "text" or "json" (one JSON object per line). Default: text.
  std::string log_format = "text";
  // Encoding of the decisions and triggers topics: protobuf (binary, the contract) or
  // json (protobuf's JSON mapping, for consumers without the .proto and for kcat).
  bool output_json = false;
  // debug, info, warn, error. Default: info.
  std::string log_level = "info";

  // Model artifact directory for the session encoder; empty = no embeddings.
  std::string model_dir;
  // Offer propensity model artifact directory (docs/offer-model.md); empty = the decision
  // stage's online posteriors alone. Needs model.dir (its inputs include the embedding).
  std::string offer_model_dir;
  // Visitors whose encoder keys/values stay cached in memory (LRU); a miss re-encodes
  // the visitor's window from its stored events. Default: 8192.
  size_t model_cache_visitors = 8192;
  // The distilled intent head's artifact directory (tools/distill), served on every
  // embedding update; needs model.dir (its embeddings). Empty: rule-based intent scores.
  std::string intent_head_dir;

  // Keys of the stages the program wires in besides the runtime (`catalog.*`,
  // `decision.*`, `triggers.*`), passed through untouched for them to parse.
  std::map<std::string, std::string> stage_properties;

  // Embedded mode: start librdkafka's mock cluster in-process.
  bool embedded = false;
  // Partitions per topic created in embedded mode. Default: 4.
  int embedded_partitions = 4;
};

// The environment variable that can hold the bearer token instead of a file.
inline constexpr const char* kAuthTokenVariable = "INTENTSTREAM_HTTP_AUTH_TOKEN";
// INTENTSTREAM_ variables that are not configuration keys and are therefore allowed:
// the token, and the partition count that deploy/compose/docker-compose.yml reads.
const std::vector<std::string>& OtherEnvironmentVariables();

const std::vector<OptionSpec<ProcessorOptions>>& ProcessorOptionSpecs();

// Key prefixes that belong to other stages (ProcessorOptions::stage_properties).
inline const std::vector<std::string>& StagePropertyPrefixes() {
  static const std::vector<std::string> prefixes = {"catalog.", "decision.", "triggers."};
  return prefixes;
}

// Builds options from properties (defaults < file < environment < assignments) and
// validates them. `stage_keys` are the other stages' keys, so that their environment
// variables are read too. Throws ConfigError naming the key.
ProcessorOptions LoadProcessorOptions(const std::string& config_file,
                                      const std::vector<std::string>& assignments,
                                      const std::vector<std::string>& stage_keys = {});

// Checks cross-field rules and paths. Throws ConfigError naming the key.
void Validate(const ProcessorOptions& options);

}  // namespace intentstream::runtime
