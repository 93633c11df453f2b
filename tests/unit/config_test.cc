#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "runtime/kafka_clients.h"
#include "runtime/options.h"
#include "support/temp_dir.h"
#include "support/tls.h"

namespace intentstream::runtime {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(const std::vector<std::string>& sets, const std::string& file = "") {
  try {
    LoadProcessorOptions(file, sets);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// Sets an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name_.c_str()); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
};

constexpr const char* kToken = "config-test-token-0123456789";

TEST(Config, DefaultsNeedBootstrapUnlessEmbedded) {
  EXPECT_EQ(ErrorOf({}),
            "configuration key 'kafka.bootstrap.servers': required unless running "
            "--embedded");
  const auto o = LoadProcessorOptions("", {"embedded=true"});
  EXPECT_EQ(o.topics.web, "web-events");
  EXPECT_EQ(o.session.max_events, 64);
  EXPECT_EQ(o.group_id, "intentstream");
}

TEST(Config, UnknownKeyIsNamed) {
  EXPECT_EQ(ErrorOf({"embedded=true", "state.dri=/tmp"}),
            "configuration key 'state.dri': unknown key (see `intentstream help-config`)");
}

TEST(Config, InvalidNumberIsNamed) {
  EXPECT_EQ(ErrorOf({"embedded=true", "session.gap_ms=soon"}),
            "configuration key 'session.gap_ms': invalid integer 'soon'");
  EXPECT_EQ(ErrorOf({"embedded=true", "session.max_events=0"}),
            "configuration key 'session.max_events': value 0 out of range [1, 4096]");
  EXPECT_EQ(ErrorOf({"embedded=maybe"}),
            "configuration key 'embedded': invalid boolean 'maybe' (use true or false)");
}

TEST(Config, UnreachablePathIsNamed) {
  EXPECT_EQ(ErrorOf({"embedded=true", "state.dir=/nonexistent-root/x/state"}),
            "configuration key 'state.dir': parent directory '/nonexistent-root/x' does not exist");
  EXPECT_EQ(ErrorOf({"embedded=true", "model.dir=/nonexistent-model"}),
            "configuration key 'model.dir': '/nonexistent-model' is not a directory");
  EXPECT_THAT(ErrorOf({}, "/nonexistent.properties"),
              HasSubstr("cannot read '/nonexistent.properties'"));
}

TEST(Config, FileEnvironmentAndFlagsLayerInOrder) {
  testing::TempDir dir;
  const std::string file = dir.Sub("p.properties");
  std::ofstream(file) << "# comment\nembedded = true\ngroup.id = from-file\n"
                         "session.gap_ms = 5000\nkafka.consumer.fetch.wait.max.ms = 50\n"
                         "kafka.socket.timeout.ms = 1000\n";
  setenv("INTENTSTREAM_GROUP_ID", "from-env", 1);
  const auto o = LoadProcessorOptions(file, {"session.gap_ms=7000"});
  unsetenv("INTENTSTREAM_GROUP_ID");
  EXPECT_EQ(o.group_id, "from-env");
  EXPECT_EQ(o.session.session_gap_ms, 7000);
  EXPECT_EQ(o.kafka_consumer.at("fetch.wait.max.ms"), "50");
  EXPECT_EQ(o.kafka_common.at("socket.timeout.ms"), "1000");
  EXPECT_TRUE(o.kafka_producer.empty());
}

TEST(Config, MalformedFileLineIsNamed) {
  testing::TempDir dir;
  const std::string file = dir.Sub("bad.properties");
  std::ofstream(file) << "embedded = true\nthis line has no equals\n";
  EXPECT_THAT(ErrorOf({}, file), HasSubstr("bad.properties:2: expected 'key = value'"));
}

TEST(Config, DocumentedReferenceIsCurrent) {
  // docs/configuration.md embeds `intentstream help-config`; regenerate it when keys change.
  std::ifstream in(std::string(INTENTSTREAM_TEST_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md missing";
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(doc, HasSubstr(OptionsReference(ProcessorOptionSpecs())))
      << "regenerate: see the first lines of docs/configuration.md";
}

TEST(Config, ReferenceListsEveryKey) {
  const std::string ref = OptionsReference(ProcessorOptionSpecs());
  for (const auto& spec : ProcessorOptionSpecs()) EXPECT_THAT(ref, HasSubstr("`" + spec.key + "`"));
}

}  // namespace
}  // namespace intentstream::runtime

namespace intentstream::runtime {
namespace {

TEST(Config, IntentHeadNeedsTheEncoderAndADirectory) {
  EXPECT_EQ(ErrorOf({"embedded=true", "model.intent_head_dir=/tmp"}),
            "configuration key 'model.intent_head_dir': needs model.dir (the head reads its "
            "embeddings)");
  EXPECT_THAT(ErrorOf({"embedded=true", "model.dir=/tmp", "model.intent_head_dir=/nonexistent/x"}),
              HasSubstr("configuration key 'model.intent_head_dir': '/nonexistent/x' is not a "
                        "directory"));
  EXPECT_EQ(
      LoadProcessorOptions("", {"embedded=true", "model.dir=/tmp", "model.intent_head_dir=/tmp"})
          .intent_head_dir,
      "/tmp");
}

TEST(Config, ListenPortOutsideTheRangeIsNamed) {
  EXPECT_EQ(ErrorOf({"embedded=true", "http.listen=127.0.0.1:99999"}),
            "configuration key 'http.listen': port '99999' is not a number in 0..65535, got "
            "'127.0.0.1:99999'");
  for (const char* listen :
       {"127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http", "127.0.0.1:", "localhost", ":9464"}) {
    EXPECT_THAT(ErrorOf({"embedded=true", std::string("http.listen=") + listen}),
                HasSubstr("configuration key 'http.listen': "))
        << listen;
  }
  EXPECT_EQ(LoadProcessorOptions("", {"embedded=true", "http.listen=127.0.0.1:65535"}).http_listen,
            "127.0.0.1:65535");
  EXPECT_EQ(LoadProcessorOptions("", {"embedded=true", "http.listen="}).http_listen, "");
}

TEST(Config, MisspeltEnvironmentVariableIsNamed) {
  {
    ScopedEnv typo("INTENTSTREAM_HTTP_LISTN", "0.0.0.0:9464");
    EXPECT_THAT(ErrorOf({"embedded=true"}),
                HasSubstr("configuration key 'INTENTSTREAM_HTTP_LISTN': environment variable "
                          "names no configuration key"));
  }
  {
    ScopedEnv kafka("INTENTSTREAM_KAFKA_BOOTSTRAP_SERVERS", "broker:9092");
    EXPECT_THAT(ErrorOf({"embedded=true"}), HasSubstr("'INTENTSTREAM_KAFKA_BOOTSTRAP_SERVERS'"));
  }
  // The variables the project documents for other purposes are allowed.
  ScopedEnv partitions("INTENTSTREAM_PARTITIONS", "6");
  ScopedEnv listen("INTENTSTREAM_HTTP_LISTEN", "127.0.0.1:9999");
  EXPECT_EQ(LoadProcessorOptions("", {"embedded=true"}).http_listen, "127.0.0.1:9999");
}

TEST(Config, AuthTokenFromAFileOrTheEnvironment) {
  testing::TempDir dir;
  const std::string file = dir.Sub("token");
  std::ofstream(file) << kToken << "\n";
  auto o = LoadProcessorOptions("", {"embedded=true", "http.auth_token_file=" + file});
  EXPECT_EQ(o.http_auth_token, kToken) << "the trailing newline is not part of the token";
  EXPECT_EQ(LoadProcessorOptions("", {"embedded=true"}).http_auth_token, "");
  {
    ScopedEnv env(kAuthTokenVariable, kToken);
    EXPECT_EQ(LoadProcessorOptions("", {"embedded=true"}).http_auth_token, kToken);
    EXPECT_EQ(ErrorOf({"embedded=true", "http.auth_token_file=" + file}),
              "configuration key 'http.auth_token_file': set it or INTENTSTREAM_HTTP_AUTH_TOKEN, "
              "not both");
  }
}

TEST(Config, BadAuthTokenIsNamedAndNeverEchoed) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("empty")) << "\n";
  std::ofstream(dir.Sub("short")) << "abc123\n";
  std::ofstream(dir.Sub("spaced")) << "secret with spaces 0123456789\n";
  EXPECT_EQ(ErrorOf({"embedded=true", "http.auth_token_file=" + dir.Sub("empty")}),
            "configuration key 'http.auth_token_file': '" + dir.Sub("empty") + "' is empty");
  EXPECT_EQ(ErrorOf({"embedded=true", "http.auth_token_file=" + dir.Sub("missing")}),
            "configuration key 'http.auth_token_file': '" + dir.Sub("missing") +
                "' is not a readable file");
  EXPECT_EQ(ErrorOf({"embedded=true", "http.auth_token_file=" + dir.path().string()}),
            "configuration key 'http.auth_token_file': '" + dir.path().string() +
                "' is not a readable file");
  const std::string short_error =
      ErrorOf({"embedded=true", "http.auth_token_file=" + dir.Sub("short")});
  EXPECT_THAT(short_error, HasSubstr("shorter than 16 characters"));
  EXPECT_THAT(short_error, ::testing::Not(HasSubstr("abc123")));
  const std::string spaced_error =
      ErrorOf({"embedded=true", "http.auth_token_file=" + dir.Sub("spaced")});
  EXPECT_THAT(spaced_error, HasSubstr("may hold only"));
  EXPECT_THAT(spaced_error, ::testing::Not(HasSubstr("secret")));
  ScopedEnv empty(kAuthTokenVariable, "");
  EXPECT_EQ(ErrorOf({"embedded=true"}),
            "configuration key 'INTENTSTREAM_HTTP_AUTH_TOKEN': the bearer token is empty");
}

TEST(Config, NonLoopbackListenNeedsAToken) {
  EXPECT_THAT(ErrorOf({"embedded=true", "http.listen=0.0.0.0:9464"}),
              HasSubstr("configuration key 'http.auth_token_file': required when http.listen is "
                        "not a loopback address (0.0.0.0:9464)"));
  for (const char* loopback : {"127.0.0.1:0", "localhost:0", "[::1]:0", "127.0.0.2:0"}) {
    EXPECT_EQ(ErrorOf({"embedded=true", std::string("http.listen=") + loopback}), "no error")
        << loopback;
  }
  ScopedEnv env(kAuthTokenVariable, kToken);
  EXPECT_EQ(ErrorOf({"embedded=true", "http.listen=0.0.0.0:9464"}), "no error");
}

TEST(Config, TlsFilesAreCheckedAtStart) {
  testing::TempDir dir;
  const std::string cert = dir.Sub("c.pem");
  const std::string key = dir.Sub("k.pem");
  ASSERT_TRUE(testing::WriteTestCertificate(cert, key));
  const auto o = LoadProcessorOptions(
      "", {"embedded=true", "http.tls_cert_file=" + cert, "http.tls_key_file=" + key});
  EXPECT_EQ(o.http_tls_cert_file, cert);
  EXPECT_THAT(ErrorOf({"embedded=true", "http.tls_cert_file=" + dir.Sub("none.pem"),
                       "http.tls_key_file=" + key}),
              HasSubstr("configuration key 'http.tls_cert_file': cannot read '" +
                        dir.Sub("none.pem") + "'"));
  EXPECT_THAT(ErrorOf({"embedded=true", "http.tls_cert_file=" + cert,
                       "http.tls_key_file=" + dir.Sub("none.pem")}),
              HasSubstr("configuration key 'http.tls_key_file': cannot read"));
  EXPECT_THAT(ErrorOf({"embedded=true", "http.tls_cert_file=" + cert, "http.tls_key_file=" + cert}),
              HasSubstr("configuration key 'http.tls_key_file': '" + cert +
                        "' is not an unencrypted PEM private key"));
  EXPECT_EQ(ErrorOf({"embedded=true", "http.tls_key_file=" + key}),
            "configuration key 'http.tls_cert_file': a private key needs a certificate");
  EXPECT_EQ(ErrorOf({"embedded=true", "http.tls_cert_file=" + cert}),
            "configuration key 'http.tls_key_file': a certificate needs a private key");
}

// The rebalance protocol follows the configured assignors, as librdkafka decides it.
TEST(Config, CooperativeRebalanceOnlyWhenEveryAssignorIsCooperative) {
  ProcessorOptions o;
  EXPECT_FALSE(UsesCooperativeRebalance(o));  // range by default
  o.kafka_common["partition.assignment.strategy"] = "cooperative-sticky";
  EXPECT_TRUE(UsesCooperativeRebalance(o));
  o.kafka_consumer["partition.assignment.strategy"] = " cooperative-sticky , range";
  EXPECT_FALSE(UsesCooperativeRebalance(o));  // kafka.consumer.* wins; range is eager
  o.kafka_consumer["partition.assignment.strategy"] = "cooperative-sticky,";
  EXPECT_TRUE(UsesCooperativeRebalance(o));
}

}  // namespace
}  // namespace intentstream::runtime
