// The tabular mode's data: type inference, the yes/no target, the stratified split, and
// bad CSVs failing with their line and column.
#include "model/tabular_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "model/binary_metrics.h"

namespace intentstream::model {
namespace {

using ::testing::HasSubstr;

CsvTable Parse(const std::string& text) {
  std::istringstream in(text);
  return ReadCsvTable(in, "bank.csv", ';');
}

std::string Table(size_t rows) {
  std::string t = "age;job;pdays;y\n";
  for (size_t i = 0; i < rows; ++i) {
    t += std::to_string(20 + i % 50) + ";" + (i % 3 == 0 ? "admin." : "technician") + ";" +
         (i % 7 == 0 ? "" : "999") + ";" + (i % 5 == 0 ? "yes" : "no") + "\n";
  }
  return t;
}

std::string ErrorOf(const std::string& text, TabularOptions o = {}) {
  try {
    EncodeTabular(Parse(text), "bank.csv", o);
  } catch (const DataFileError& e) {
    return e.what();
  } catch (const std::invalid_argument& e) {
    return std::string("invalid: ") + e.what();
  }
  return "";
}

TEST(TabularTest, InfersTypesEncodesAndSplitsStratified) {
  TabularOptions o;
  const TabularData d = EncodeTabular(Parse(Table(500)), "bank.csv", o);
  ASSERT_EQ(d.columns.size(), 3u);
  EXPECT_TRUE(d.columns[0].numeric);   // age
  EXPECT_FALSE(d.columns[1].numeric);  // job
  EXPECT_TRUE(d.columns[2].numeric);   // pdays, with missing values
  EXPECT_TRUE(d.columns[2].has_missing);
  // age, pdays, pdays=missing | job=technician, job=admin.
  EXPECT_EQ(d.numeric_width, 3u);
  EXPECT_EQ(d.categorical_width, 2u);
  EXPECT_EQ(d.feature_names.back(), "job=admin.");
  EXPECT_EQ(d.positives, 100u);
  const size_t total = d.train.rows + d.validation.rows + d.test.rows;
  EXPECT_EQ(total, 500u);
  EXPECT_EQ(d.test.rows, 100u);  // 20% of each class
  size_t test_pos = 0;
  for (int y : d.test.y) test_pos += static_cast<size_t>(y);
  EXPECT_EQ(test_pos, 20u);
  // Standardised on the training rows: mean about zero there.
  double mean = 0;
  for (size_t r = 0; r < d.train.rows; ++r) mean += d.train.numeric[r * d.numeric_width];
  EXPECT_NEAR(mean / static_cast<double>(d.train.rows), 0.0, 1e-5);
  // The same seed gives the same split; another seed another one.
  const TabularData again = EncodeTabular(Parse(Table(500)), "bank.csv", o);
  EXPECT_EQ(again.test.lines, d.test.lines);
  o.seed = 8;
  const TabularData other = EncodeTabular(Parse(Table(500)), "bank.csv", o);
  EXPECT_NE(other.test.lines, d.test.lines);
}

TEST(TabularTest, ForcedTypesAndDroppedColumns) {
  TabularOptions o;
  o.categorical = {"age"};
  o.drop = {"pdays"};
  const TabularData d = EncodeTabular(Parse(Table(100)), "bank.csv", o);
  ASSERT_EQ(d.columns.size(), 2u);
  EXPECT_FALSE(d.columns[0].numeric);
  EXPECT_EQ(d.numeric_width, 0u);
  o.drop = {"nope"};
  EXPECT_EQ(ErrorOf(Table(10), o),
            "invalid: --drop: bank.csv has no column 'nope' (columns: age, job, pdays, y)");
  o = {};
  o.target = "outcome";
  EXPECT_EQ(ErrorOf(Table(10), o),
            "invalid: --target: bank.csv has no column 'outcome' (columns: age, job, pdays, y)");
}

TEST(TabularTest, BadRowsFailNamingLineAndColumn) {
  // A ragged row.
  std::string ragged = Table(20);
  ragged.insert(ragged.find('\n', ragged.find('\n') + 1) + 1, "31;admin.\n");
  EXPECT_EQ(ErrorOf(ragged), "bank.csv:3: column 3: expected 4 fields (as in the header), found 2");
  // A non-numeric value in a numeric column (line 6 is the 5th data row).
  std::string text = Table(40);
  size_t at = 0;
  for (int line = 1; line < 6; ++line) at = text.find('\n', at) + 1;
  text.replace(at, 2, "4O");  // letter O, not zero
  EXPECT_EQ(ErrorOf(text),
            "bank.csv:6: column 1: '4O' is not a number, but column 'age' is numeric (39 of its "
            "40 values are numbers; --categorical age reads it as categorical)");
  // A missing target.
  std::string missing = Table(10);
  const size_t y = missing.find(";no\n", missing.find('\n'));
  missing.replace(y, 4, ";\n");
  EXPECT_THAT(ErrorOf(missing), HasSubstr("column 4: missing target value (column 'y')"));
  // A target that is neither yes nor no.
  std::string maybe = Table(10);
  maybe.replace(maybe.find(";no\n"), 4, ";maybe\n");
  EXPECT_THAT(ErrorOf(maybe), HasSubstr("target value 'maybe' is neither positive"));
}

TEST(CsvTableTest, GuessesTheDelimiterAndKeepsQuotedFieldsWhole) {
  std::istringstream semicolons("age;job;y\n30;\"admin; senior\";yes\n41;technician;no\n");
  const CsvTable t = ReadCsvTable(semicolons, "bank.csv");
  EXPECT_EQ(t.delimiter, ';');
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].fields[1], "admin; senior");
  EXPECT_EQ(t.rows[1].line, 3);
  EXPECT_EQ(t.Column("y"), 2);
  EXPECT_EQ(t.Column("duration"), -1);
  std::istringstream commas("a,b\n1,2\n");
  EXPECT_EQ(ReadCsvTable(commas, "x.csv").delimiter, ',');
}

TEST(CsvTableTest, MalformedAndEmptyInputsFailNamingTheLine) {
  std::istringstream unterminated("a,b\n1,2\n3,\"open\n");
  try {
    ReadCsvTable(unterminated, "x.csv");
    ADD_FAILURE() << "no error";
  } catch (const DataFileError& e) {
    EXPECT_EQ(e.line(), 3u);
    EXPECT_THAT(e.what(), HasSubstr("x.csv:3: unterminated quoted field 2"));
  }
  std::istringstream empty("");
  EXPECT_THROW(ReadCsvTable(empty, "x.csv"), DataFileError);
  EXPECT_THROW(ReadCsvTableFile("/nonexistent/bank.csv"), DataFileError);
}

TEST(BinaryMetricsTest, KnownValues) {
  const std::vector<double> p = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2};
  const std::vector<int> y = {1, 1, 0, 1, 0, 0, 1, 0};
  // Pairs (pos, neg) ordered right: 4 positives x 4 negatives = 16; wrong: 0.7>0.6, 0.7>0.3,
  // 0.5>0.3, 0.4>0.3 -> 12/16.
  EXPECT_DOUBLE_EQ(RocAuc(p, y), 12.0 / 16);
  // AP = (1/4)(1 + 1 + 3/4 + 4/7).
  EXPECT_NEAR(PrAuc(p, y), 0.25 * (1 + 1 + 0.75 + 4.0 / 7), 1e-12);
  const auto c = AtThreshold(p, y, 0.55);
  EXPECT_DOUBLE_EQ(c.precision, 0.75);
  EXPECT_DOUBLE_EQ(c.recall, 0.75);
  EXPECT_DOUBLE_EQ(c.f1, 0.75);
  const auto bins =
      Reliability(std::vector<double>{0.05, 0.05, 0.95, 0.95}, std::vector<int>{0, 1, 1, 1});
  EXPECT_EQ(bins[0].count, 2u);
  EXPECT_DOUBLE_EQ(bins[0].observed_rate, 0.5);
  EXPECT_NEAR(ExpectedCalibrationError(bins), 0.5 * 0.45 + 0.5 * 0.05, 1e-12);
}

TEST(BinaryMetricsTest, BootstrapIntervalsHoldThePointAndSeparateDifferentModels) {
  // 400 rows, 80 positive: `good` ranks most positives first, `noise` is a fixed shuffle.
  std::vector<int> y;
  std::vector<double> good, noise;
  for (int i = 0; i < 400; ++i) {
    const bool positive = i % 5 == 0;
    y.push_back(positive ? 1 : 0);
    good.push_back((positive ? 0.6 : 0.4) + 0.001 * ((i * 37) % 101) / 101.0 +
                   (i % 17 == 0 ? (positive ? -0.3 : 0.3) : 0.0));
    noise.push_back(((i * 7919) % 400) / 400.0);
  }
  const auto interval = RocAucInterval(good, y, 500, 7);
  EXPECT_TRUE(interval.Contains(RocAuc(good, y)));
  EXPECT_LT(interval.lower, interval.upper);  // a finite sample leaves some doubt
  EXPECT_EQ(RocAucInterval(good, y, 500, 7).lower, interval.lower);  // seeded

  const auto self = RocAucDifferenceInterval(good, good, y, 500, 7);
  EXPECT_EQ(self.lower, 0.0);
  EXPECT_EQ(self.upper, 0.0);
  const auto better = RocAucDifferenceInterval(good, noise, y, 500, 7);
  EXPECT_GT(better.lower, 0.0) << "a ranker against noise is a clear difference";
  EXPECT_FALSE(better.Contains(0));
}

}  // namespace
}  // namespace intentstream::model
