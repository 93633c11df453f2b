// The RFC 4180 reader: quoting, line breaks inside quotes, delimiters, CRLF, and errors
// that name the line, after which reading goes on.
#include "common/csv.h"

#include <gtest/gtest.h>

#include <sstream>

namespace intentstream::csv {
namespace {

struct Read {
  std::vector<Record> records;
  std::vector<std::string> errors;
};

Read ReadAll(const std::string& text, char delimiter = ',', size_t max_bytes = 1 << 20) {
  std::istringstream in(text);
  Reader reader(in, delimiter, max_bytes);
  Read out;
  Record r;
  std::string error;
  for (;;) {
    const auto status = reader.Next(&r, &error);
    if (status == Reader::Status::kEnd) break;
    if (status == Reader::Status::kMalformed) {
      out.errors.push_back("line " + std::to_string(r.line) + ": " + error);
    } else {
      out.records.push_back(r);
    }
  }
  return out;
}

using Fields = std::vector<std::string>;

TEST(CsvReaderTest, PlainAndQuotedFields) {
  const Read r = ReadAll("a,b,c\n1,\"x,y\",\"say \"\"hi\"\"\"\n,,\n");
  ASSERT_TRUE(r.errors.empty());
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(r.records[1].fields, (Fields{"1", "x,y", "say \"hi\""}));
  EXPECT_EQ(r.records[2].fields, (Fields{"", "", ""}));
  EXPECT_EQ(r.records[2].line, 3);
}

TEST(CsvReaderTest, LineBreakInsideQuotesKeepsLineNumbers) {
  const Read r = ReadAll("id,text\r\n1,\"two\r\nlines\"\r\n\r\n2,after\r\n3,last");
  ASSERT_TRUE(r.errors.empty());
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_EQ(r.records[1].fields, (Fields{"1", "two\r\nlines"}));
  EXPECT_EQ(r.records[1].line, 2);
  EXPECT_EQ(r.records[2].fields, (Fields{"2", "after"}));
  EXPECT_EQ(r.records[2].line, 5);  // line 4 is blank
  EXPECT_EQ(r.records[3].fields, (Fields{"3", "last"}));
  EXPECT_EQ(r.records[3].line, 6);
}

TEST(CsvReaderTest, OtherDelimiters) {
  EXPECT_EQ(ReadAll("a;\"b;c\";d\n", ';').records.at(0).fields, (Fields{"a", "b;c", "d"}));
  EXPECT_EQ(ReadAll("a\tb,c\t\n", '\t').records.at(0).fields, (Fields{"a", "b,c", ""}));
  char d = 0;
  EXPECT_TRUE(ParseDelimiter("tab", &d));
  EXPECT_EQ(d, '\t');
  EXPECT_TRUE(ParseDelimiter("\\t", &d));
  EXPECT_EQ(d, '\t');
  EXPECT_TRUE(ParseDelimiter(";", &d));
  EXPECT_EQ(d, ';');
  EXPECT_FALSE(ParseDelimiter("", &d));
  EXPECT_FALSE(ParseDelimiter(";;", &d));
  EXPECT_FALSE(ParseDelimiter("\"", &d));
}

TEST(CsvReaderTest, MalformedRecordsNameTheirLineAndReadingGoesOn) {
  const Read r = ReadAll("a,b\n\"x\"y,1\nok,2\n\"open,3\n");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0], "line 2: text after the closing quote of field 1");
  EXPECT_EQ(r.errors[1], "line 4: unterminated quoted field 1");
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[1].fields, (Fields{"ok", "2"}));
  EXPECT_EQ(r.records[1].line, 3);
}

TEST(CsvReaderTest, UnbalancedQuoteIsBoundedByTheRecordLimit) {
  const Read r = ReadAll("\"runaway,1\n2,3\n4,5\n6,7\n", ',', 14);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "line 1: record longer than 14 bytes (an unbalanced quote?)");
  ASSERT_EQ(r.records.size(), 1u);  // reading resumes after the line where it gave up
  EXPECT_EQ(r.records[0].fields, (Fields{"6", "7"}));
}

TEST(CsvReaderTest, QuoteInsideUnquotedFieldIsText) {
  EXPECT_EQ(ReadAll("5\" screen,x\n").records.at(0).fields, (Fields{"5\" screen", "x"}));
}

}  // namespace
}  // namespace intentstream::csv
