// The chat-completions client and the LLM teacher against a loopback HTTP server that
// speaks the same API (no LLM runs here): good JSON answers, answers that are not JSON
// or name unknown intents, 5xx, timeouts, refused response formats, and the rule
// fallback that never skips a session.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "llm/chat_client.h"
#include "support/chat_server.h"
#include "support/wait.h"
#include "teach/labels_file.h"
#include "teach/llm_teacher.h"
#include "teach/taxonomy_proposal.h"
#include "teach/teacher.h"

namespace intentstream {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

llm::ChatOptions Options(const std::string& url) {
  llm::ChatOptions o;
  o.url = url;
  o.model = "test-model";
  o.timeout_ms = 2000;
  o.max_retries = 2;
  o.retry_backoff_ms = 1;
  o.requests_per_second = 0;
  return o;
}

llm::ChatRequest Request() {
  llm::ChatRequest r;
  r.messages = {{"system", "label it"}, {"user", "a session"}};
  r.json_schema = R"({"type":"object","properties":{"intents":{"type":"array"}}})";
  return r;
}

TEST(ChatClient, ReturnsTheFirstChoiceAndSendsModelSchemaAndKey) {
  testing::ChatServer server([](const json&, httplib::Response& res) {
    testing::ChatServer::Complete(res, R"({"intents":["home_buying"]})");
  });
  auto options = Options(server.url());
  options.api_key = "secret-token";
  llm::ChatClient client(options);
  const llm::ChatResult r = client.Complete(Request());
  ASSERT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.content, R"({"intents":["home_buying"]})");
  EXPECT_EQ(r.attempts, 1);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["model"], "test-model");
  EXPECT_EQ(requests[0]["messages"].size(), 2u);
  EXPECT_EQ(requests[0]["response_format"]["type"], "json_schema");
  EXPECT_EQ(requests[0]["response_format"]["json_schema"]["schema"]["type"], "object");
  EXPECT_EQ(server.auth()[0], "Bearer secret-token");
  EXPECT_EQ(client.counters().ok, 1u);
}

TEST(ChatClient, RetriesA5xxThenSucceeds) {
  std::atomic<int> calls{0};
  testing::ChatServer server([&](const json&, httplib::Response& res) {
    if (calls++ == 0) {
      res.status = 503;
      res.set_content("overloaded", "text/plain");
      return;
    }
    testing::ChatServer::Complete(res, "{}");
  });
  llm::ChatClient client(Options(server.url()));
  const auto r = client.Complete(Request());
  ASSERT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(client.counters().retries, 1u);
  EXPECT_EQ(client.counters().http_errors, 1u);
}

TEST(ChatClient, GivesUpOnPersistent5xxAfterTheRetries) {
  testing::ChatServer server([](const json&, httplib::Response& res) {
    res.status = 500;
    res.set_content("broken", "text/plain");
  });
  llm::ChatClient client(Options(server.url()));
  const auto r = client.Complete(Request());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, llm::ChatError::kHttpStatus);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_THAT(r.detail, HasSubstr("broken"));
  EXPECT_EQ(r.attempts, 3);  // the first try and max_retries = 2
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(client.counters().failed, 1u);
}

TEST(ChatClient, DoesNotRetryOtherClientErrors) {
  testing::ChatServer server([](const json&, httplib::Response& res) {
    res.status = 401;
    res.set_content("no key", "text/plain");
  });
  llm::ChatClient client(Options(server.url()));
  const auto r = client.Complete(Request());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.http_status, 401);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ChatClient, TimesOutOnASlowServer) {
  testing::ChatServer server([](const json&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    testing::ChatServer::Complete(res, "{}");
  });
  auto options = Options(server.url());
  options.timeout_ms = 100;
  options.max_retries = 1;
  llm::ChatClient client(options);
  const auto r = client.Complete(Request());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, llm::ChatError::kTimeout) << r.detail;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(client.counters().timeouts, 2u);
}

TEST(ChatClient, ConnectionRefusedIsAConnectionError) {
  // A port that was free a moment ago: bound, never listened on, closed.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  auto options = Options("http://127.0.0.1:" + std::to_string(port) + "/v1");
  options.max_retries = 0;
  llm::ChatClient client(options);
  const auto r = client.Complete(Request());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, llm::ChatError::kConnection) << r.detail;
}

TEST(ChatClient, NotAChatCompletionsBodyIsABadResponse) {
  testing::ChatServer server([](const json&, httplib::Response& res) {
    res.set_content(R"({"hello": "world"})", "application/json");
  });
  llm::ChatClient client(Options(server.url()));
  const auto r = client.Complete(Request());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, llm::ChatError::kBadResponse);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ChatClient, DowngradesTheResponseFormatWhenTheServerRefusesIt) {
  testing::ChatServer server([](const json& request, httplib::Response& res) {
    if (request.contains("response_format") &&
        request["response_format"]["type"] == "json_schema") {
      res.status = 400;
      res.set_content("response_format json_schema not supported", "text/plain");
      return;
    }
    testing::ChatServer::Complete(res, "{}");
  });
  llm::ChatClient client(Options(server.url()));
  const auto r = client.Complete(Request());
  ASSERT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(client.response_format(), llm::ResponseFormat::kJsonObject);
  EXPECT_EQ(client.counters().format_downgrades, 1u);
  EXPECT_EQ(server.requests().back()["response_format"]["type"], "json_object");
}

TEST(ChatClient, BadOptionsNameTheKey) {
  try {
    llm::LoadChatOptions({{"llm.url", "http://127.0.0.1:1/v1"}, {"llm.timeout_ms", "-5"}});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("llm.timeout_ms"));
  }
  EXPECT_THROW(llm::LoadChatOptions({{"llm.url", "http://x/v1"}, {"llm.modle", "m"}}), ConfigError);
}

// --- the LLM teacher ---

v1::SessionEvent WebPage(int64_t ms, const std::string& category, uint64_t key) {
  v1::SessionEvent e;
  e.set_event_key(key);
  e.set_time_ms(ms);
  e.set_source(v1::SOURCE_WEB);
  e.set_event_type(v1::WEB_EVENT_TYPE_PAGE_VIEW);
  e.set_category(category);
  return e;
}

struct TeacherFixture {
  explicit TeacherFixture(testing::ChatServer& server, int max_retries = 0)
      : catalog(catalog::DefaultCatalog()),
        client([&] {
          auto o = Options(server.url());
          o.max_retries = max_retries;
          o.timeout_ms = 300;
          return o;
        }()),
        rules(catalog),
        teacher(catalog, &client, &rules, teach::LlmTeacherOptions{},
                Logger(nullptr, "llm-teacher")) {
    constexpr int64_t t0 = 1'700'000'000'000;
    for (int i = 0; i < 4; ++i) {
      events.push_back(WebPage(t0 + i * 60'000, "/mortgages/first-time-buyers", 100 + i));
    }
    for (const auto& e : events) pointers.push_back(&e);
    session.id = "c1/0001";
    session.visitor_id = "c1";
    session.start_ms = events.front().time_ms();
    session.end_ms = events.back().time_ms();
    session.events = pointers;
  }
  std::shared_ptr<const catalog::Catalog> catalog;
  llm::ChatClient client;
  teach::RuleTeacher rules;
  teach::LlmTeacher teacher;
  std::vector<v1::SessionEvent> events;
  std::vector<const v1::SessionEvent*> pointers;
  teach::Session session;
};

TEST(LlmTeacher, LabelsFromAValidAnswerAndCachesIt) {
  testing::ChatServer server([](const json&, httplib::Response& res) {
    testing::ChatServer::Complete(
        res, R"({"intents": ["refinancing", "home_buying"], "reason": "mortgage pages"})");
  });
  TeacherFixture f(server);
  const auto label = f.teacher.Label(f.session);
  EXPECT_EQ(label.source, "llm");
  ASSERT_EQ(label.intents.size(), 2u);
  EXPECT_EQ(label.intents[0], f.catalog->FindIntent("refinancing"));
  EXPECT_EQ(label.top, f.catalog->FindIntent("refinancing"));
  // The taxonomy and the session reach the model.
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(requests[0]["messages"][0]["content"].get<std::string>(), HasSubstr("home_buying"));
  EXPECT_THAT(requests[0]["messages"][1]["content"].get<std::string>(), HasSubstr("/mortgages"));
  // Asked again: from the cache, no request.
  const auto again = f.teacher.Label(f.session);
  EXPECT_EQ(again.source, "llm-cache");
  EXPECT_EQ(again.intents, label.intents);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(f.teacher.counters().answered, 1u);
  EXPECT_EQ(f.teacher.counters().cache_hits, 1u);
}

TEST(LlmTeacher, AnswerCheckRejectsNonJsonBadShapeAndUnknownIds) {
  const auto catalog = catalog::DefaultCatalog();
  EXPECT_TRUE(teach::CheckAnswer(R"({"intents":["fraud_concern"]})", *catalog, 3).ok);
  const auto not_json = teach::CheckAnswer("I think this is about mortgages.", *catalog, 3);
  EXPECT_FALSE(not_json.ok);
  EXPECT_EQ(not_json.problem, teach::Fallback::kNotJson);
  const auto shape = teach::CheckAnswer(R"({"labels":["home_buying"]})", *catalog, 3);
  EXPECT_FALSE(shape.ok);
  EXPECT_EQ(shape.problem, teach::Fallback::kBadShape);
  const auto unknown = teach::CheckAnswer(R"({"intents":["crypto_trading"]})", *catalog, 3);
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.problem, teach::Fallback::kUnknownIntent);
  EXPECT_THAT(unknown.error, HasSubstr("crypto_trading"));
}

TEST(LlmTeacher, NonJsonAnswersAreAskedAgainThenFallBackToTheRules) {
  testing::ChatServer server([](const json&, httplib::Response& res) {
    testing::ChatServer::Complete(res, "This visitor is clearly buying a home.");
  });
  TeacherFixture f(server);
  const auto label = f.teacher.Label(f.session);
  EXPECT_EQ(label.source, "rules-fallback");
  EXPECT_EQ(label.intents, f.rules.Label(f.session).intents);
  EXPECT_FALSE(label.intents.empty());
  EXPECT_EQ(server.requests().size(), 2u);  // answer_attempts = 2
  // The second ask says what was wrong.
  const auto second = server.requests()[1]["messages"];
  EXPECT_THAT(second.back()["content"].get<std::string>(), HasSubstr("invalid"));
  EXPECT_EQ(f.teacher.counters().invalid_answers, 2u);
  EXPECT_EQ(f.teacher.counters().fallbacks, 1u);
  EXPECT_EQ(f.teacher.counters().fallback_by_reason[static_cast<size_t>(teach::Fallback::kNotJson)],
            1u);
}

TEST(LlmTeacher, UnknownIntentFallsBackCountedByReason) {
  testing::ChatServer server([](const json&, httplib::Response& res) {
    testing::ChatServer::Complete(res, R"({"intents": ["yacht_purchase"]})");
  });
  TeacherFixture f(server);
  const auto label = f.teacher.Label(f.session);
  EXPECT_EQ(label.source, "rules-fallback");
  EXPECT_THAT(label.detail, HasSubstr("yacht_purchase"));
  EXPECT_EQ(
      f.teacher.counters().fallback_by_reason[static_cast<size_t>(teach::Fallback::kUnknownIntent)],
      1u);
}

TEST(LlmTeacher, ServerErrorsAndTimeoutsFallBackAndNoSessionIsSkipped) {
  std::atomic<int> calls{0};
  testing::ChatServer server([&](const json&, httplib::Response& res) {
    const int n = calls++;
    if (n % 3 == 0) {
      res.status = 502;
      res.set_content("bad gateway", "text/plain");
    } else if (n % 3 == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(800));  // past timeout_ms
      testing::ChatServer::Complete(res, R"({"intents": ["home_buying"]})");
    } else {
      testing::ChatServer::Complete(res, R"({"intents": ["home_buying"]})");
    }
  });
  TeacherFixture f(server);
  // Six distinct sessions (distinct summaries: no cache hits).
  std::vector<std::vector<v1::SessionEvent>> events(6);
  std::vector<std::vector<const v1::SessionEvent*>> pointers(6);
  std::vector<teach::Session> sessions(6);
  for (size_t i = 0; i < sessions.size(); ++i) {
    for (size_t j = 0; j <= i; ++j) {
      events[i].push_back(WebPage(1'700'000'000'000 + static_cast<int64_t>(j) * 60'000,
                                  "/mortgages/rates", 10 * i + j));
    }
    for (const auto& e : events[i]) pointers[i].push_back(&e);
    sessions[i] = f.session;
    sessions[i].events = pointers[i];
    sessions[i].start_ms = events[i].front().time_ms();
    sessions[i].end_ms = events[i].back().time_ms();
  }
  const auto labels = teach::LabelSessions(f.teacher, sessions);
  ASSERT_EQ(labels.size(), sessions.size());
  size_t from_llm = 0, fallbacks = 0;
  for (const auto& l : labels) {
    EXPECT_FALSE(l.intents.empty());
    from_llm += l.source == "llm";
    fallbacks += l.source == "rules-fallback";
  }
  EXPECT_EQ(from_llm + fallbacks, sessions.size());
  EXPECT_EQ(from_llm, 2u);
  const auto& c = f.teacher.counters();
  EXPECT_EQ(c.sessions, sessions.size());
  EXPECT_EQ(c.fallback_by_reason[static_cast<size_t>(teach::Fallback::kHttpError)], 2u);
  EXPECT_EQ(c.fallback_by_reason[static_cast<size_t>(teach::Fallback::kTimeout)], 2u);
}

// --- taxonomy proposals (generate -> review -> refine) ---

std::string SchemaName(const json& request) {
  if (!request.contains("response_format")) return "";
  return request["response_format"]["json_schema"].value("name", "");
}

TEST(TaxonomyProposal, GenerateReviewRefineProducesReviewableCandidates) {
  testing::ChatServer server([](const json& request, httplib::Response& res) {
    if (SchemaName(request) == "review") {
      testing::ChatServer::Complete(
          res, R"({"issues": ["pet_cover overlaps nothing; keep it marketing"]})");
      return;
    }
    const bool refine = request["messages"][1]["content"].get<std::string>().find("Issues found") !=
                        std::string::npos;
    testing::ChatServer::Complete(res, json{{"intents",
                                             {{{"id", "home_buying"},
                                               {"name", "Home buying"},
                                               {"description",
                                                "Researching or preparing to buy a first or next "
                                                "home with a mortgage."},
                                               {"marketing", true}},
                                              {{"id", "pet_cover"},
                                               {"name", refine ? "Pet insurance" : "Pets"},
                                               {"description", "Looking for insurance for a pet."},
                                               {"examples", {"/insurance/pet"}},
                                               {"marketing", true}}}}}
                                           .dump());
  });
  auto options = Options(server.url());
  llm::ChatClient client(options);
  const auto catalog = catalog::DefaultCatalog();
  const std::vector<std::string> summaries(5, "web page /insurance/pet\n");
  teach::ProposalOptions po;
  po.batch_sessions = 2;
  const auto r = teach::ProposeTaxonomy(*catalog, summaries, client, po, Logger(nullptr, "t"));
  EXPECT_EQ(r.batches, 3u);
  EXPECT_EQ(r.failed_steps, 0u);
  ASSERT_EQ(r.issues.size(), 1u);
  ASSERT_EQ(r.intents.size(), 2u);
  EXPECT_EQ(r.intents[0].change, "unchanged");
  EXPECT_EQ(r.intents[1].id, "pet_cover");
  EXPECT_EQ(r.intents[1].change, "new");
  EXPECT_EQ(r.intents[1].name, "Pet insurance");  // the refine step's answer
  EXPECT_EQ(server.requests().size(), 5u);        // 3 generate, review, refine
}

TEST(TaxonomyProposal, InvalidAnswersKeepTheTaxonomyTheStepStartedFrom) {
  testing::ChatServer server([](const json&, httplib::Response& res) {
    testing::ChatServer::Complete(
        res, R"({"intents": [{"id": "Not Snake", "name": "x", "description": "y"}]})");
  });
  llm::ChatClient client(Options(server.url()));
  const auto catalog = catalog::DefaultCatalog();
  const auto r =
      teach::ProposeTaxonomy(*catalog, {"a session\n"}, client, {}, Logger(nullptr, "t"));
  EXPECT_GE(r.failed_steps, 2u);  // generate and review
  ASSERT_EQ(r.intents.size(), catalog->intents().size());
  for (const auto& c : r.intents) EXPECT_EQ(c.change, "unchanged") << c.id;
  std::vector<teach::CandidateIntent> parsed;
  EXPECT_THAT(teach::ParseTaxonomyAnswer(R"({"intents": [{"id": "Not Snake"}]})", &parsed),
              HasSubstr("snake_case"));
}

// --- the labels file ---

TEST(LabelsFile, RoundTripsAndNamesTheLineOfABadRow) {
  const auto catalog = catalog::DefaultCatalog();
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("intentstream_labels_" + std::to_string(::getpid()) + ".csv"))
                               .string();
  teach::LabelRow a;
  a.session_id = "C1/00ab";
  a.visitor_id = "C1";
  a.end_ms = 1'700'000'000'000;
  a.label.source = "llm";
  a.label.intents = {catalog->FindIntent("refinancing"), catalog->FindIntent("home_buying")};
  a.label.top = a.label.intents.front();
  ASSERT_EQ(teach::WriteLabels(path, {a}, *catalog), "");
  std::unordered_map<std::string, teach::LabelRow> read;
  ASSERT_EQ(teach::ReadLabels(path, *catalog, &read), "");
  ASSERT_EQ(read.count("C1/00ab"), 1u);
  EXPECT_EQ(read["C1/00ab"].label.intents, a.label.intents);
  EXPECT_EQ(read["C1/00ab"].end_ms, a.end_ms);
  EXPECT_EQ(read["C1/00ab"].label.source, "llm");
  std::ofstream(path, std::ios::app) << "C2/01,C2,5,llm,yacht_purchase,yacht_purchase\n";
  read.clear();
  EXPECT_EQ(teach::ReadLabels(path, *catalog, &read),
            path + ":3: intents: unknown intent 'yacht_purchase'");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace intentstream
