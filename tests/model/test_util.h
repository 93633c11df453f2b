// Helpers shared by the model tests: a small random-initialised model and random events.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>

#include "model/model.h"

namespace intentstream::model::testing {

inline Tokenizer SmallTokenizer(TokenizerConfig config = {}) {
  std::map<std::string, int64_t> cats{{"/credit-cards", 9}, {"/loans", 8}, {"/mortgages", 7},
                                      {"home", 6},          {"cards", 5},  {"rare", 1}};
  std::map<std::string, int64_t> prods{{"CC_TRAVEL", 5}, {"LOAN_PERSONAL", 4}, {"MORTGAGE", 3}};
  std::map<std::string, int64_t> chans{{"organic", 5}, {"email", 4}, {"paid_search", 3}};
  return Tokenizer(std::move(config), Vocabulary::Build(cats, 2, 1000),
                   Vocabulary::Build(prods, 1, 1000), Vocabulary::Build(chans, 1, 1000));
}

inline std::shared_ptr<SessionModel> RandomModel(int window = 64, int stride = 8,
                                                 uint64_t seed = 42) {
  ModelConfig c;
  c.encoder.window = window;
  c.encoder.window_stride = stride;
  c.seed = seed;
  c.model_version = "test-" + std::to_string(seed);
  TokenizerConfig tc;
  tc.category_hash_buckets = 16;
  tc.query_buckets = 32;
  c.tokenizer = tc;
  return SessionModel::Create(c, SmallTokenizer(tc));
}

class EventFactory {
 public:
  explicit EventFactory(uint64_t seed) : rng_(seed) {}

  v1::SessionEvent Next(int64_t time_ms) {
    static const char* kCats[] = {
        "/credit-cards/travel", "/loans/personal",  "/mortgages", "home",
        "cards/compare",        "/never-seen/page", "",           "unknown"};
    static const char* kProds[] = {"CC_TRAVEL", "LOAN_PERSONAL", "MORTGAGE", "", "NEW_PRODUCT"};
    static const char* kChans[] = {"organic", "email", "", "tiktok"};
    v1::SessionEvent e;
    e.set_event_key(rng_());
    e.set_time_ms(time_ms);
    e.set_source(Pick(2) == 0 ? v1::SOURCE_WEB : v1::SOURCE_APP);
    e.set_event_type(static_cast<uint32_t>(Pick(13)));
    e.set_category(kCats[Pick(8)]);
    e.set_product(kProds[Pick(5)]);
    const int terms = static_cast<int>(Pick(5));
    for (int i = 0; i < terms; ++i) e.add_query_term_hashes(static_cast<uint32_t>(rng_()));
    e.set_dwell_ms(static_cast<uint32_t>(Pick(120000)));
    e.set_device(static_cast<v1::Device>(Pick(7)));
    e.set_channel(kChans[Pick(4)]);
    return e;
  }
  uint64_t Pick(uint64_t n) { return rng_() % n; }

 private:
  std::mt19937_64 rng_;
};

}  // namespace intentstream::model::testing
