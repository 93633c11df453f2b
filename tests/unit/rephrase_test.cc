// The rephrase guard, and the rephraser against a loopback server speaking the
// chat-completions API: accepted answers are used, every refusal and endpoint failure
// leaves the template text and is counted by reason.
#include "decide/rephrase.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "decide/decision_operator.h"
#include "decide/message_check.h"
#include "decide/messages.h"
#include "ingest/session_event.h"
#include "support/chat_completions.h"
#include "support/decision_state.h"
#include "support/events.h"
#include "support/wait.h"

namespace intentstream::decide {
namespace {

using ::testing::HasSubstr;
using Outcome = RephraseOutcome;

const std::string kSource =
    "Made for spending abroad. Representative 24.9% APR variable [1]. "
    "You earn 1.5 air miles for every £1 you spend [2].";
const std::vector<std::string> kExcerpts = {
    "Representative 24.9% APR variable, based on an assumed credit limit of £1,200.",
    "You earn 1.5 air miles for every £1 you spend, and two airport lounge passes each year."};

Outcome Check(const std::string& rephrase, size_t max_bytes = 600) {
  const DecisionOptions o;
  return CheckRephrase(kSource, rephrase, kExcerpts, ForbiddenPhrasesFor(o, /*credit=*/true),
                       max_bytes);
}

TEST(RephraseGuardTest, AcceptsARewordingThatKeepsEveryMarkerAndNumber) {
  EXPECT_EQ(Check("Going abroad? Pay 24.9% APR variable [1], and get 1.5 air miles per £1 [2]."),
            Outcome::kAccepted);
  EXPECT_EQ(Check("Get 1.5 miles for each £1 [2]. The rate: 24.9% APR variable [1]."),
            Outcome::kAccepted)
      << "order may change";
}

TEST(RephraseGuardTest, RefusesWithTheReason) {
  EXPECT_EQ(Check(""), Outcome::kEmpty);
  EXPECT_EQ(Check("   \n"), Outcome::kEmpty);
  EXPECT_EQ(Check(std::string(700, 'a')), Outcome::kTooLong);
  EXPECT_EQ(Check("Pay 24.9% APR [1]. Earn miles."), Outcome::kMarkerLost);
  EXPECT_EQ(Check("Pay 24.9% APR [1]. Earn 1.5 miles per £1 [2]. See more [3]."),
            Outcome::kMarkerAdded);
  EXPECT_EQ(Check("Pay 19.9% APR [1]. Earn 1.5 miles per £1 [2]."), Outcome::kNumberNotInPassage);
  EXPECT_EQ(Check("Pay 24.9% APR [1]. Earn 1.5 miles per £1 [2]. Only 3 days left."),
            Outcome::kNumberNotInPassage)
      << "a number with no citation";
  EXPECT_EQ(Check("Pay 1.5% APR [1]. Earn 24.9 miles per £1 [2]."), Outcome::kNumberNotInPassage)
      << "each number must be in the passage its own sentence cites";
  EXPECT_EQ(Check("Pay 24.9% APR [1]. Earn 1.5 miles per £1 [2]. There is no annual fee."),
            Outcome::kUncitedFact);
  EXPECT_EQ(Check("A risk-free card. Pay 24.9% APR [1]. Earn 1.5 miles per £1 [2]."),
            Outcome::kForbiddenPhrase);
  EXPECT_EQ(Check("You are pre-approved. Pay 24.9% APR [1]. Earn 1.5 miles per £1 [2]."),
            Outcome::kForbiddenPhrase)
      << "credit phrases apply to credit products";
  const DecisionOptions o;
  const std::vector<std::string> save = {"Save more."};
  EXPECT_EQ(CheckRephrase("Save more [1].", "You are pre-approved to save more [1].", save,
                          ForbiddenPhrasesFor(o, /*credit=*/false), 600),
            Outcome::kAccepted);
}

TEST(MessageCheckTest, CountsCitedFactsUngroundedNumbersAndForbiddenPhrases) {
  const std::vector<std::string> none;
  auto f = CheckMessage(kSource, kExcerpts, none);
  EXPECT_EQ(f.sentences, 3u);
  EXPECT_EQ(f.factual, 2u);
  EXPECT_EQ(f.factual_cited, 2u);
  EXPECT_EQ(f.numbers, 3u);
  EXPECT_EQ(f.ungrounded_numbers, 0u);
  const std::vector<std::string> phrases = {"air miles"};
  f = CheckMessage("Pay 3% [1]. No fee. See [4].", kExcerpts, phrases);
  EXPECT_EQ(f.factual, 2u);
  EXPECT_EQ(f.factual_cited, 1u);
  EXPECT_EQ(f.ungrounded_numbers, 1u) << "3 is in no cited excerpt";
  EXPECT_EQ(f.unresolved_markers, 1u);
  EXPECT_TRUE(f.forbidden.empty());
  f = CheckMessage("Earn air miles [2].", kExcerpts, phrases);
  EXPECT_THAT(f.forbidden, ::testing::ElementsAre("air miles"));
}

// Counts the rephraser's outcomes (from its thread).
class OutcomeCounter final : public DecisionMetrics {
 public:
  void Catalogue(const std::vector<std::string>&, const std::vector<std::string>&,
                 const std::vector<std::string>&) override {}
  void Decision(int, Arm, bool, bool, double) override {}
  void Shown(int, Arm) override {}
  void Removed(size_t) override {}
  void FeedbackEvent(int, Arm, Feedback) override {}
  void UnknownOfferFeedback() override {}
  void Trigger(int) override {}
  void TriggerSuppressed(int, const std::string&) override {}
  void CatalogueReload(bool) override {}
  void Rephrase(Outcome outcome) override {
    std::lock_guard lock(mu_);
    ++counts_[RephraseOutcomeName(outcome)];
    ++total_;
  }
  void MessageShown(bool rephrased) override {
    std::lock_guard lock(mu_);
    ++(rephrased ? shown_rephrased_ : shown_template_);
  }
  void Reset() {
    std::lock_guard lock(mu_);
    counts_.clear();
    total_ = shown_rephrased_ = shown_template_ = 0;
  }
  int count(const std::string& name) {
    std::lock_guard lock(mu_);
    return counts_[name];
  }
  int total() {
    std::lock_guard lock(mu_);
    return total_;
  }
  int shown_rephrased() {
    std::lock_guard lock(mu_);
    return shown_rephrased_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> counts_;
  int total_ = 0, shown_rephrased_ = 0, shown_template_ = 0;
};

// Offer x intent pairs the rephraser asks about for one persona.
int Keys() {
  int n = 0;
  for (const auto& o : catalog::DefaultCatalog()->offers())
    n += std::max<int>(1, static_cast<int>(o.intents.size()));
  return n;
}

std::string Body(const std::string& user) {
  const size_t at = user.find("Message: ");
  return at == std::string::npos ? "" : user.substr(at + 9);
}

// Rewords every message; the travel card's (it opens with "Made for spending abroad")
// gets `bad` instead.
testing::ChatServer::Answer Answers(
    std::function<std::pair<int, std::string>(const std::string&)> bad) {
  return [bad](const std::string& user) -> std::pair<int, std::string> {
    const std::string body = Body(user);
    if (body.rfind("Made for spending abroad.", 0) == 0) return bad(body);
    return {200, testing::ChatServer::Completion("In short: " + body)};
  };
}

DecisionOptions RephraseOptions() {
  DecisionOptions o;
  o.rephrase.enabled = true;
  o.rephrase.refresh_ms = 3'600'000;
  return o;
}

class RephraserTest : public ::testing::Test {
 protected:
  // Runs one pass with the travel card answered by `bad`; returns the counter.
  void OnePass(testing::ChatServer::Answer answers, std::chrono::milliseconds timeout) {
    // The client first: a server stops only once its kept-alive connections close.
    rephraser_.reset();
    client_.reset();
    server_ = std::make_unique<testing::ChatServer>(std::move(answers));
    client_ = testing::LoopbackChatClient(server_->port(), timeout);
    rephraser_ = std::make_unique<Rephraser>(RephraseOptions(), *client_, &counter_,
                                             Logger(&log_sink_, "rephrase"));
    rephraser_->SetCatalog(catalog::DefaultCatalog(), {"all"});
    ASSERT_TRUE(
        testing::WaitFor([&] { return rephraser_->passes() >= 1; }, std::chrono::seconds(60)));
  }
  // The published rephrase of the travel card, if any.
  const std::string* TravelCard() {
    const auto cat = catalog::DefaultCatalog();
    const int card = cat->FindOffer("OFR_TRAVEL_CARD");
    const int intent = cat->FindIntent("travel_rewards");
    MessageRenderer r(cat, 1);
    table_ = rephraser_->Snapshot();
    return table_->Find(card, "all", intent, r.RenderUncached(card, intent, {}).body);
  }

  LogSink log_sink_{LogSink::Format::kText, LogLevel::kError};
  OutcomeCounter counter_;
  std::unique_ptr<testing::ChatServer> server_;
  std::unique_ptr<decide::ChatClient> client_;
  std::unique_ptr<Rephraser> rephraser_;
  std::shared_ptr<const RephraseTable> table_;
};

TEST_F(RephraserTest, PublishesAcceptedRephrasesForEveryOfferAndIntent) {
  OnePass(
      Answers([](const std::string& body) {
        return std::pair{200, testing::ChatServer::Completion("\"Abroad a lot? " + body + "\"")};
      }),
      std::chrono::seconds(5));
  EXPECT_EQ(counter_.count("accepted"), Keys());
  EXPECT_EQ(server_->requests_served(), Keys());
  const std::string* card = TravelCard();
  ASSERT_NE(card, nullptr);
  EXPECT_EQ(card->rfind("Abroad a lot? Made for spending abroad.", 0), 0u) << *card;
  EXPECT_THAT(*card, HasSubstr("24.9% APR variable"));
  // Another body (other search terms) has no rephrase: the template is used.
  const auto cat = catalog::DefaultCatalog();
  EXPECT_EQ(table_->Find(cat->FindOffer("OFR_TRAVEL_CARD"), "all",
                         cat->FindIntent("travel_rewards"), "Made for spending abroad."),
            nullptr);
  EXPECT_EQ(table_->Find(cat->FindOffer("OFR_TRAVEL_CARD"), "young_saver",
                         cat->FindIntent("travel_rewards"), *card),
            nullptr);
}

struct Failure {
  const char* name;
  std::function<std::pair<int, std::string>(const std::string&)> answer;
  const char* outcome;
};

TEST_F(RephraserTest, EachFailureLeavesTheTemplateAndIsCountedByReason) {
  const std::vector<Failure> failures = {
      {"5xx",
       [](const std::string&) {
         return std::pair{503, std::string("{}")};
       },
       "server_error"},
      {"4xx",
       [](const std::string&) {
         return std::pair{401, std::string("{}")};
       },
       "client_error"},
      {"not JSON",
       [](const std::string&) {
         return std::pair{200, std::string("<html>")};
       },
       "invalid_response"},
      {"no choices",
       [](const std::string&) {
         return std::pair{200, std::string("{\"x\":1}")};
       },
       "invalid_response"},
      {"empty",
       [](const std::string&) {
         return std::pair{200, testing::ChatServer::Completion("  ")};
       },
       "empty"},
      {"marker dropped",
       [](const std::string& body) {
         std::string b = body;
         b.erase(b.find(" [1]"), 4);
         return std::pair{200, testing::ChatServer::Completion(b)};
       },
       "marker_lost"},
      {"number changed",
       [](const std::string& body) {
         std::string b = body;
         b.replace(b.find("24.9%"), 5, "14.9%");
         return std::pair{200, testing::ChatServer::Completion(b)};
       },
       "number_not_in_passage"},
      {"forbidden phrase",
       [](const std::string& body) {
         return std::pair{200, testing::ChatServer::Completion("You are pre-approved. " + body)};
       },
       "forbidden_phrase"},
      {"uncited fact",
       [](const std::string& body) {
         return std::pair{200, testing::ChatServer::Completion(body + " No annual fee.")};
       },
       "uncited_fact"},
  };
  for (const auto& f : failures) {
    SCOPED_TRACE(f.name);
    counter_.Reset();
    OnePass(Answers(f.answer), std::chrono::seconds(5));
    EXPECT_EQ(counter_.count(f.outcome), 1);
    EXPECT_EQ(counter_.count("accepted"), Keys() - 1);
    EXPECT_EQ(TravelCard(), nullptr) << "a refused rephrase must not be published";
    rephraser_.reset();
  }
}

TEST_F(RephraserTest, ATimeoutOrANoShowEndpointIsCountedAndNothingStops) {
  OnePass(Answers([](const std::string& body) {
            std::this_thread::sleep_for(std::chrono::milliseconds(800));
            return std::pair{200, testing::ChatServer::Completion(body)};
          }),
          std::chrono::milliseconds(200));
  EXPECT_EQ(counter_.count("timeout"), 1);
  EXPECT_EQ(TravelCard(), nullptr);
  rephraser_.reset();
  counter_.Reset();
  // Nothing listening at all.
  const int port = server_->port();
  client_.reset();
  server_.reset();
  client_ = testing::LoopbackChatClient(port, std::chrono::milliseconds(200));
  rephraser_ = std::make_unique<Rephraser>(RephraseOptions(), *client_, &counter_,
                                           Logger(&log_sink_, "rephrase"));
  rephraser_->SetCatalog(catalog::DefaultCatalog(), {"all"});
  ASSERT_TRUE(
      testing::WaitFor([&] { return rephraser_->passes() >= 1; }, std::chrono::seconds(60)));
  EXPECT_EQ(counter_.count("unreachable"), Keys());
  EXPECT_TRUE(rephraser_->Snapshot()->entries.empty());
}

TEST(RephraseDecisionTest, DecisionsShowTheAcceptedRephraseWithTheWarningVerbatim) {
  testing::ChatServer server([](const std::string& user) {
    return std::pair{200, testing::ChatServer::Completion("In short: " + Body(user))};
  });
  auto client = testing::LoopbackChatClient(server.port(), std::chrono::seconds(5));
  OutcomeCounter counter;
  LogSink log_sink(LogSink::Format::kText, LogLevel::kError);
  DecisionModels models;
  models.chat = client.get();
  DecisionOperator op(RephraseOptions(), catalog::DefaultCatalog(), models, &counter,
                      Logger(&log_sink, "t"));
  ASSERT_TRUE(testing::WaitFor([&] { return counter.count("accepted") == Keys(); },
                               std::chrono::seconds(60)));
  testing::MemoryState state;
  testing::CollectingSink sink;
  testing::CustomerSession s("cust-9");
  auto p = testing::Profile("cust-9", 1'789'900'000'000, true);
  p.add_products_held("CURRENT_ACCOUNT");
  state.profiles["cust-9"] = p;
  const auto login = testing::App("login-9", "cust-9", 1'790'000'000'000, v1::APP_ACTION_LOGIN);
  s.Add(ingest::ToSessionEvent(login));
  auto u = s.Update(login, 1'790'000'000'000);
  op.Decide(std::span<op::VisitorUpdate>(&u, 1), state, sink);
  ASSERT_FALSE(sink.decisions.empty());
  const auto& home = sink.decisions.back();
  ASSERT_GT(home.offers_size(), 0);
  const auto& cat = *catalog::DefaultCatalog();
  for (const auto& o : home.offers()) {
    SCOPED_TRACE(o.offer_id());
    EXPECT_EQ(o.message().rfind("In short: ", 0), 0u) << o.message();
    const auto& offer = cat.offers()[static_cast<size_t>(cat.FindOffer(o.offer_id()))];
    if (offer.sensitive) {
      const std::string& warning = cat.passage(offer.risk_warnings.back()).text;
      EXPECT_THAT(o.message(), HasSubstr(warning.substr(0, warning.size() - 1)));
    }
    EXPECT_GT(o.citations_size(), 0);
  }
  EXPECT_EQ(counter.shown_rephrased(), home.offers_size());
}

}  // namespace
}  // namespace intentstream::decide
