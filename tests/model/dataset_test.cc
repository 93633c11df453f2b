// Training data loading: JSON lines in the protobuf mapping with identity merges, and a
// CSV clickstream with a column mapping.
#include "model/dataset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/evaluation.h"
#include "test_util.h"

namespace intentstream::model {
namespace {

namespace fs = std::filesystem;

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("intentstream_dataset_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  fs::path dir_;
};

TEST_F(DatasetTest, JsonLinesMergeLinkedAnonymousHistoryIntoCustomer) {
  Write(
      "web-events.jsonl",
      R"({"event_id":"w1","anonymous_id":"a-1","event_time":"2026-01-05T10:00:00Z","event_type":"WEB_EVENT_TYPE_PAGE_VIEW","url_path":"/Mortgages/Calculator?x=1"})"
      "\n"
      R"({"event_id":"w2","anonymous_id":"a-2","event_time":"2026-01-05T10:01:00Z","event_type":"WEB_EVENT_TYPE_SEARCH","search_query":"fixed rate"})"
      "\n"
      "not json at all\n"
      R"({"event_id":"w1","anonymous_id":"a-1","event_time":"2026-01-05T10:00:00Z","event_type":"WEB_EVENT_TYPE_PAGE_VIEW","url_path":"/mortgages"})"
      "\n");
  Write(
      "app-events.jsonl",
      R"({"event_id":"p1","customer_id":"c-1","event_time":"2026-01-05T09:00:00Z","action":"APP_ACTION_LOGIN","screen":"home"})"
      "\n");
  Write(
      "identity-links.jsonl",
      R"({"event_id":"l1","anonymous_id":"a-1","customer_id":"c-1","event_time":"2026-01-05T10:05:00Z"})"
      "\n");
  DatasetSummary summary;
  const auto timelines = LoadTimelines({dir_.string()}, CsvMapping{}, &summary);
  EXPECT_EQ(summary.bad_lines, 1);
  EXPECT_EQ(summary.merged_anonymous_ids, 1);
  ASSERT_EQ(timelines.size(), 2u);  // a-2 and c-1 (a-1 folded into c-1)
  EXPECT_EQ(timelines[0].visitor_id, "a-2");
  EXPECT_EQ(timelines[0].events[0].query_term_hashes_size(), 2);
  const auto& c = timelines[1];
  EXPECT_EQ(c.visitor_id, "c-1");
  ASSERT_EQ(c.events.size(), 2u);  // the duplicate w1 is dropped, as the processor does
  EXPECT_EQ(c.events[0].category(), "home");
  EXPECT_EQ(c.events[1].category(), "/mortgages/calculator");
}

TEST_F(DatasetTest, CsvWithColumnMapping) {
  Write("clicks.csv",
        "sid;ts;page;kind\n"
        "s1;2024-03-01T10:00:00Z;/loans;view\n"
        "s1;2024-03-01 10:00:30;/loans/personal;click\n"
        "s2;1709287200;/cards;\n"
        "s2;bad-time;/cards;view\n"
        "\"s3\";1709287200123;\"/a;b\";7\n");
  CsvMapping m;
  m.visitor = "sid";
  m.time = "ts";
  m.item = "page";
  m.type = "3";  // by index
  m.delimiter = ';';
  DatasetSummary summary;
  const auto timelines = LoadTimelines({(dir_ / "clicks.csv").string()}, m, &summary);
  EXPECT_EQ(summary.csv_rows, 4);
  EXPECT_EQ(summary.bad_lines, 1);
  ASSERT_EQ(timelines.size(), 3u);
  ASSERT_EQ(timelines[0].events.size(), 2u);
  EXPECT_EQ(timelines[0].events[1].time_ms() - timelines[0].events[0].time_ms(), 30000);
  EXPECT_EQ(timelines[0].events[1].event_type(), 3u);  // "click"
  EXPECT_EQ(timelines[1].events[0].time_ms(), 1709287200000);
  EXPECT_EQ(timelines[2].events[0].category(), "/a;b");
  EXPECT_EQ(timelines[2].events[0].time_ms(), 1709287200123);
}

TEST_F(DatasetTest, MissingCsvColumnIsNamed) {
  Write("clicks.csv", "a,b\n1,2\n");
  DatasetSummary summary;
  try {
    LoadTimelines({(dir_ / "clicks.csv").string()}, CsvMapping{}, &summary);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("CSV has no column 'session_id'"), std::string::npos)
        << e.what();
  }
}

TEST(EvaluationTest, BaselinesAndMetrics) {
  const Tokenizer tok = testing::SmallTokenizer();
  Timeline t;
  t.visitor_id = "v";
  const char* pages[] = {"/loans", "/mortgages", "/loans", "/mortgages", "/loans"};
  for (int i = 0; i < 5; ++i) {
    t.events.emplace_back();
    t.events.back().set_time_ms(i * 1000);
    t.events.back().set_category(pages[i]);
  }
  const std::vector<Timeline> train{t};
  TransitionBaseline trans;
  trans.Fit(train, tok, 60000);
  const auto top = trans.TopK(tok.CategoryId("/loans"), 1, {});
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0], tok.CategoryId("/mortgages"));
  const auto cases = BuildNextItemCases(train, tok, 60000, 100, 1);
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].target, 4u);
  RankMetrics m;
  m.k = 2;
  m.Add({5, 7}, 7);
  m.Add({5, 7}, 9);
  EXPECT_DOUBLE_EQ(m.Recall(), 0.5);
  EXPECT_DOUBLE_EQ(m.Mrr(), 0.25);
}

TEST(CsvTimeTest, Forms) {
  int64_t ms = 0;
  EXPECT_TRUE(ParseCsvTime("1709287200", &ms));
  EXPECT_EQ(ms, 1709287200000);
  EXPECT_TRUE(ParseCsvTime("2024-03-01T10:00:00.250Z", &ms));
  EXPECT_EQ(ms, 1709287200250);
  EXPECT_TRUE(ParseCsvTime("2024-03-01", &ms));
  EXPECT_FALSE(ParseCsvTime("yesterday", &ms));
  EXPECT_FALSE(ParseCsvTime("", &ms));
}

}  // namespace
}  // namespace intentstream::model
