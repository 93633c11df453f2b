#include "runtime/visitor_lookup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/hash.h"
#include "intentstream/v1/state.pb.h"
#include "state/keys.h"
#include "support/temp_dir.h"

namespace intentstream::runtime {
namespace {

using ::testing::HasSubstr;

class VisitorLookupTest : public ::testing::Test {
 protected:
  VisitorLookupTest() : store_(state::StoreOptions{.dir = dir_.Sub("db")}) {
    v1::VisitorState s;
    s.set_events_total(7);
    s.set_model_version("m-1");
    const float emb[4] = {1, 0, 0, 0};
    s.set_embedding(std::string(reinterpret_cast<const char*>(emb), sizeof emb));
    auto w = store_.NewWriteSet();
    w.Put(state::Cf::kSessions, state::CustomerKey("cust-7"), s.SerializeAsString());
    store_.Commit(w);
  }
  serve::HttpResponse Get(const std::string& path, const std::string& query = "") {
    return lookup_.Handle({"GET", path, query}, "/v1/visitors/");
  }

  testing::TempDir dir_;
  state::StateStore store_;
  int32_t partitions_ = 4;
  std::set<std::pair<std::string, int32_t>> owned_;
  VisitorLookup lookup_{store_, "web-events", "app-events", 128,
                        Ownership{[this](const std::string& t, int32_t p) {
                                    return owned_.count({t, p}) > 0;
                                  },
                                  [this] { return partitions_; }}};
};

TEST_F(VisitorLookupTest, OwnedVisitorIsServed) {
  owned_.insert({"app-events", KafkaMurmur2Partition("cust-7", 4)});
  const auto r = Get("/v1/visitors/cust-7");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr(R"("type":"customer")"));
  EXPECT_THAT(r.body, HasSubstr(R"("embedding":{"dimensions":4,"modelVersion":"m-1"})"));
  EXPECT_THAT(r.body, HasSubstr(R"("eventsTotal":"7")"));
  // Written in value format 0: read the same, without the state stage's dedup bookkeeping.
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("ThroughMs")));
}

TEST_F(VisitorLookupTest, OtherProcessesPartitionIsNamed) {
  const auto r = Get("/v1/visitors/cust-7", "type=customer");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr(R"("owned":false)"));
  EXPECT_THAT(r.body,
              HasSubstr("\"partition\":" + std::to_string(KafkaMurmur2Partition("cust-7", 4))));
}

TEST_F(VisitorLookupTest, UnknownOwnedVisitorIs404) {
  for (int p = 0; p < 4; ++p) owned_.insert({"app-events", p});
  for (int p = 0; p < 4; ++p) owned_.insert({"web-events", p});
  const auto r = Get("/v1/visitors/nobody");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("unknown visitor"));
}

TEST_F(VisitorLookupTest, BadRequestsAre400AndNotReadyIs503) {
  EXPECT_EQ(Get("/v1/visitors/").status, 400);
  EXPECT_EQ(Get("/v1/visitors/a/b").status, 400);
  EXPECT_EQ(Get("/v1/visitors/" + std::string(200, 'x')).status, 400);
  EXPECT_EQ(Get("/v1/visitors/cust-7", "type=robot").status, 400);
  partitions_ = 0;
  EXPECT_EQ(Get("/v1/visitors/cust-7").status, 503);
}

}  // namespace
}  // namespace intentstream::runtime
