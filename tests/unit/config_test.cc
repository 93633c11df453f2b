#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "runtime/options.h"
#include "support/temp_dir.h"

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
