// A model artifact round-trips, and one whose parts disagree fails with a message that
// names the file and the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "model/model.h"
#include "test_util.h"

namespace intentstream::model {
namespace {

namespace fs = std::filesystem;
using testing::EventFactory;
using testing::RandomModel;

class ArtifactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("intentstream_artifact_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    model_ = RandomModel();
    model_->Save(dir_.string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Read(const std::string& name) {
    std::ifstream in(dir_ / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::string LoadError() {
    try {
      SessionModel::Load(dir_.string());
    } catch (const ModelError& e) {
      return e.what();
    }
    return "no error";
  }

  fs::path dir_;
  std::shared_ptr<SessionModel> model_;
};

TEST_F(ArtifactTest, RoundTripGivesTheSameEmbeddings) {
  const auto loaded = SessionModel::Load(dir_.string());
  EXPECT_EQ(loaded->version(), model_->version());
  EventFactory events(11);
  std::vector<v1::SessionEvent> list;
  for (int i = 0; i < 20; ++i) list.push_back(events.Next(i * 5000));
  EXPECT_EQ(loaded->EncodeFull(list), model_->EncodeFull(list));
}

TEST_F(ArtifactTest, ExtraVocabularyEntryNamesFileAndKey) {
  Write("product.vocab", Read("product.vocab") + "NEW_CARD\t3\n");
  const std::string msg = LoadError();
  EXPECT_NE(msg.find("product.vocab has 4 entries"), std::string::npos) << msg;
  EXPECT_NE(msg.find("key 'product_vocab_size' says 3"), std::string::npos) << msg;
}

TEST_F(ArtifactTest, SwappedVocabularyIsDetectedByDigest) {
  Write("channel.vocab", "organic\t5\npaid_search\t4\nemail\t3\n");  // same size, reordered
  const std::string msg = LoadError();
  EXPECT_NE(msg.find("channel.vocab does not match"), std::string::npos) << msg;
  EXPECT_NE(msg.find("channel_vocab_digest"), std::string::npos) << msg;
}

TEST_F(ArtifactTest, ConfigThatDoesNotFitTheWeightsNamesTheTensor) {
  const std::string config =
      std::regex_replace(Read("config.txt"), std::regex("ffn = 128"), "ffn = 96");
  Write("config.txt", config);
  const std::string msg = LoadError();
  EXPECT_NE(msg.find("weights.pt: tensor 'net.block0.fc1.weight' has shape [128, 64]"),
            std::string::npos)
      << msg;
}

TEST_F(ArtifactTest, MissingKeyIsNamed) {
  const std::string config =
      std::regex_replace(Read("config.txt"), std::regex("window_stride = 8\n"), "");
  Write("config.txt", config);
  const std::string msg = LoadError();
  EXPECT_NE(msg.find("config.txt: missing key 'window_stride'"), std::string::npos) << msg;
}

TEST_F(ArtifactTest, BadValueIsNamed) {
  Write("config.txt", std::regex_replace(Read("config.txt"), std::regex("heads = 4"), "heads = 3"));
  const std::string msg = LoadError();
  EXPECT_NE(msg.find("key 'heads' must divide d_model"), std::string::npos) << msg;
}

TEST_F(ArtifactTest, OlderFormatNamesTheFormatsAndTheFix) {
  Write("config.txt",
        std::regex_replace(Read("config.txt"), std::regex("format = 2"), "format = 1"));
  const std::string msg = LoadError();
  EXPECT_NE(msg.find("config.txt: key 'format' is 1, this build reads format 2 (retrain the "
                     "model with this build's intentstream-train)"),
            std::string::npos)
      << msg;
}

TEST_F(ArtifactTest, HeadLayoutIsCheckedAgainstTheWeights) {
  Write("config.txt",
        std::regex_replace(Read("config.txt"), std::regex("next_category_head = tied"),
                           "next_category_head = linear"));
  std::string msg = LoadError();
  EXPECT_NE(msg.find("weights.pt: tensor 'heads.next_category.weight' missing"), std::string::npos)
      << msg;
  Write("config.txt",
        std::regex_replace(Read("config.txt"), std::regex("next_category_head = linear"),
                           "next_category_head = both"));
  msg = LoadError();
  EXPECT_NE(msg.find("key 'next_category_head' must be 'tied' or 'linear', not 'both'"),
            std::string::npos)
      << msg;
}

TEST_F(ArtifactTest, MissingDirectory) {
  EXPECT_THROW(SessionModel::Load((dir_ / "nope").string()), ModelError);
}

}  // namespace
}  // namespace intentstream::model
