#include "decide/rephrase.h"

#include <chrono>

#include "decide/messages.h"

namespace intentstream::decide {

namespace {

RephraseOutcome OutcomeOf(ChatStatus status) {
  switch (status) {
    case ChatStatus::kOk:
      return RephraseOutcome::kAccepted;
    case ChatStatus::kTimeout:
      return RephraseOutcome::kTimeout;
    case ChatStatus::kServerError:
      return RephraseOutcome::kServerError;
    case ChatStatus::kClientError:
      return RephraseOutcome::kClientError;
    case ChatStatus::kUnreachable:
      return RephraseOutcome::kUnreachable;
    case ChatStatus::kInvalidResponse:
      return RephraseOutcome::kInvalidResponse;
  }
  return RephraseOutcome::kInvalidResponse;
}

// Models wrap answers in quotes or white space now and then; nothing else is forgiven.
std::string Tidy(std::string_view text) {
  const size_t b = text.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  text = text.substr(b, text.find_last_not_of(" \t\r\n") - b + 1);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  return std::string(text);
}

}  // namespace

std::vector<ChatMessage> RephrasePrompt(std::string_view body, std::string_view persona,
                                        std::string_view intent, size_t max_bytes) {
  std::string system =
      "You rewrite short messages that a bank shows its customers in its app. Keep every "
      "citation marker such as [1] exactly as written, at the end of the sentence it "
      "supports, before the full stop. Do not add, drop or change any number, rate, fee, "
      "amount, limit or condition, and add no fact, promise or claim of your own. Use plain, "
      "friendly English. Answer with the rewritten message only, in at most " +
      std::to_string(max_bytes) + " characters.";
  std::string user = "Customer segment: " + std::string(persona) +
                     ". Interest: " + std::string(intent.empty() ? "none" : intent) +
                     ".\nMessage: " + std::string(body);
  return {{"system", std::move(system)}, {"user", std::move(user)}};
}

const std::string* RephraseTable::Find(int offer, const std::string& persona, int intent,
                                       std::string_view body) const {
  const auto it = entries.find({offer, persona, intent});
  if (it == entries.end() || it->second.source != body) return nullptr;
  return &it->second.text;
}

Rephraser::Rephraser(const DecisionOptions& options, ChatClient& client, DecisionMetrics* metrics,
                     const Logger& log)
    : options_(options),
      client_(client),
      metrics_(metrics),
      log_(log),
      table_(std::make_shared<RephraseTable>()),
      thread_([this] { Run(); }) {}

Rephraser::~Rephraser() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Rephraser::SetCatalog(std::shared_ptr<const catalog::Catalog> catalog,
                           std::vector<std::string> personas) {
  {
    std::lock_guard lock(mu_);
    auto empty = std::make_shared<RephraseTable>();
    empty->catalogue_version = catalog->version();
    table_ = std::move(empty);
    catalog_ = std::move(catalog);
    personas_ = std::move(personas);
    ++generation_;
  }
  wake_.notify_all();
}

std::shared_ptr<const RephraseTable> Rephraser::Snapshot() const {
  std::lock_guard lock(mu_);
  return table_;
}

uint64_t Rephraser::passes() const {
  std::lock_guard lock(mu_);
  return passes_;
}

void Rephraser::Publish(std::shared_ptr<const RephraseTable> table) {
  std::lock_guard lock(mu_);
  if (table->catalogue_version == table_->catalogue_version) table_ = std::move(table);
}

void Rephraser::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!catalog_) {
      wake_.wait(lock, [&] { return stop_ || catalog_ != nullptr; });
      continue;
    }
    const auto catalog = catalog_;
    const auto personas = personas_;
    const uint64_t generation = generation_;
    lock.unlock();
    try {
      Pass(catalog, personas);
    } catch (const std::exception& e) {  // e.g. SQLite out of memory: try again next time
      log_.Error("message rephrase pass failed; template messages stay", {{"error", e.what()}});
    }
    lock.lock();
    if (generation == generation_) ++passes_;
    wake_.wait_for(lock, std::chrono::milliseconds(options_.rephrase.refresh_ms),
                   [&] { return stop_ || generation != generation_; });
  }
}

void Rephraser::Pass(const std::shared_ptr<const catalog::Catalog>& catalog,
                     const std::vector<std::string>& personas) {
  auto current = [&] {
    std::lock_guard lock(mu_);
    return !stop_ && catalog_ == catalog;
  };
  MessageRenderer renderer(catalog, 1);
  auto table = std::make_shared<RephraseTable>(*Snapshot());
  table->catalogue_version = catalog->version();
  size_t accepted = 0, asked = 0;
  for (size_t o = 0; o < catalog->offers().size(); ++o) {
    const auto& offer = catalog->offers()[o];
    std::vector<int> intents = offer.intents;
    if (intents.empty()) intents.push_back(-1);
    const auto phrases = ForbiddenPhrasesFor(options_, offer.credit);
    for (const auto& persona : personas) {
      for (int intent : intents) {
        if (!current()) return;
        const RenderedMessage m = renderer.RenderUncached(static_cast<int>(o), intent, {});
        if (m.body.empty()) continue;
        std::vector<std::string> excerpts;
        for (const auto& ref : m.citations) excerpts.push_back(catalog->passage(ref).text);
        const std::string intent_name =
            intent >= 0 ? catalog->intents()[static_cast<size_t>(intent)].name : "";
        ++asked;
        const ChatReply reply = client_.Complete(
            RephrasePrompt(m.body, persona, intent_name, options_.rephrase.max_bytes),
            options_.rephrase.model);
        const std::string text = Tidy(reply.text);
        RephraseOutcome outcome = OutcomeOf(reply.status);
        if (outcome == RephraseOutcome::kAccepted) {
          outcome = CheckRephrase(m.body, text, excerpts, phrases, options_.rephrase.max_bytes);
        }
        if (metrics_ != nullptr) metrics_->Rephrase(outcome);
        const auto key = std::make_tuple(static_cast<int>(o), persona, intent);
        if (outcome == RephraseOutcome::kAccepted) {
          table->entries[key] = {m.body, text};
          ++accepted;
        } else {
          table->entries.erase(key);  // the template text, not an older rephrase
          log_.Debug("rephrase refused; the template text is used",
                     {{"offer", offer.id},
                      {"persona", persona},
                      {"reason", RephraseOutcomeName(outcome)},
                      {"detail", reply.detail}});
        }
        Publish(std::make_shared<RephraseTable>(*table));
      }
    }
  }
  log_.Info("message rephrase pass", {{"catalogue", catalog->version()},
                                      {"asked", std::to_string(asked)},
                                      {"accepted", std::to_string(accepted)}});
}

}  // namespace intentstream::decide
