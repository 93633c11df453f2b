// Training data loading: JSON lines in the protobuf mapping with identity merges, and a
// CSV clickstream with a column mapping.
#include "model/dataset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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
  ASSERT_EQ(summary.bad_line_reports.size(), 1u);
  EXPECT_EQ(summary.bad_line_reports[0].rfind(
                (dir_ / "web-events.jsonl").string() + ":3: not a WebEvent: ", 0),
            0u)
      << summary.bad_line_reports[0];
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
  ASSERT_EQ(summary.bad_line_reports.size(), 1u);
  EXPECT_EQ(summary.bad_line_reports[0],
            (dir_ / "clicks.csv").string() +
                ":5: time 'bad-time' (column ts) is not Unix seconds, Unix milliseconds or "
                "ISO 8601");
  ASSERT_EQ(timelines.size(), 3u);
  ASSERT_EQ(timelines[0].events.size(), 2u);
  EXPECT_EQ(timelines[0].events[1].time_ms() - timelines[0].events[0].time_ms(), 30000);
  EXPECT_EQ(timelines[0].events[1].event_type(), 3u);  // "click"
  EXPECT_EQ(timelines[1].events[0].time_ms(), 1709287200000);
  EXPECT_EQ(timelines[2].events[0].category(), "/a;b");
  EXPECT_EQ(timelines[2].events[0].time_ms(), 1709287200123);
}

TEST_F(DatasetTest, CsvWithoutHeaderTabsFractionalSecondsAndIsoOffsets) {
  Write("clicks.tsv.csv",
        "s1\t1709287200.25\t/loans\n"
        "s1\t2024-03-01T11:00:01.5+01:00\t\"/two\nlines\"\n"
        "s1\t1709287202\n"    // too few fields
        "\t1709287203\t/x\n"  // no visitor
        "s2\t2024-03-01 10:00:00Z\t/cards\n");
  CsvMapping m;
  m.header = false;
  m.visitor = "0";
  m.time = "1";
  m.item = "2";
  m.delimiter = '\t';
  DatasetSummary summary;
  const auto path = (dir_ / "clicks.tsv.csv").string();
  const auto timelines = LoadTimelines({path}, m, &summary);
  EXPECT_EQ(summary.csv_rows, 3);
  ASSERT_EQ(summary.bad_line_reports.size(), 2u);
  EXPECT_EQ(summary.bad_line_reports[0],
            path + ":4: 2 fields, the mapping needs 3 (delimiter '\\t')");
  EXPECT_EQ(summary.bad_line_reports[1], path + ":5: empty visitor id (column 0)");
  ASSERT_EQ(timelines.size(), 2u);
  ASSERT_EQ(timelines[0].events.size(), 2u);
  EXPECT_EQ(timelines[0].events[0].time_ms(), 1709287200250);
  EXPECT_EQ(timelines[0].events[1].time_ms(), 1709287201500);
  EXPECT_EQ(timelines[0].events[1].category(), "/two\nlines");
  EXPECT_EQ(timelines[1].events[0].time_ms(), 1709287200000);

  m.item = "page";  // names need a header
  try {
    LoadTimelines({path}, m, &summary);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ": --csv-item 'page' must be a 0-based column index: the CSV has no header");
  }
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

TEST(CsvTimeTest, Forms) {
  int64_t ms = 0;
  EXPECT_TRUE(ParseCsvTime("1709287200.123", &ms));
  EXPECT_EQ(ms, 1709287200123);
  EXPECT_TRUE(ParseCsvTime("2024-03-01T10:00:00+02:00", &ms));
  EXPECT_EQ(ms, 1709287200000 - 2 * 3600000);
  EXPECT_TRUE(ParseCsvTime("2024-03-01T10:00:00.5-0130", &ms));
  EXPECT_EQ(ms, 1709287200500 + 90 * 60000);
  EXPECT_TRUE(ParseCsvTime("2024-03-01T10:00", &ms));
  EXPECT_EQ(ms, 1709287200000);
  EXPECT_TRUE(ParseCsvTime(" 1709287200 ", &ms));
  EXPECT_EQ(ms, 1709287200000);
  EXPECT_FALSE(ParseCsvTime("2024-02-30", &ms));
  EXPECT_FALSE(ParseCsvTime("2024-03-01T25:00:00Z", &ms));
  EXPECT_FALSE(ParseCsvTime("2024-03-01T10:00:00Zjunk", &ms));
  EXPECT_FALSE(ParseCsvTime("1709287200abc", &ms));
  // Forced formats: small numbers as milliseconds, large ones as seconds, ISO only.
  EXPECT_TRUE(ParseCsvTime("5000", &ms, CsvTimeFormat::kUnixMilliseconds));
  EXPECT_EQ(ms, 5000);
  EXPECT_TRUE(ParseCsvTime("1709287200", &ms, CsvTimeFormat::kUnixSeconds));
  EXPECT_EQ(ms, 1709287200000);
  EXPECT_FALSE(ParseCsvTime("1709287200", &ms, CsvTimeFormat::kIso8601));
  EXPECT_FALSE(ParseCsvTime("2024-03-01", &ms, CsvTimeFormat::kUnixSeconds));
  CsvTimeFormat f = CsvTimeFormat::kAuto;
  EXPECT_TRUE(ParseCsvTimeFormat("unix-ms", &f));
  EXPECT_EQ(f, CsvTimeFormat::kUnixMilliseconds);
  EXPECT_FALSE(ParseCsvTimeFormat("seconds", &f));
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
