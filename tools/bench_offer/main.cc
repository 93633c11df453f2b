// intentstream-bench-offer: single-thread throughput of the offer propensity model.
//
// In one run, on one thread:
//   (a) plain float32 matmuls: one of the model's own layer shape, one large (the
//       machine's practical FLOP rate);
//   (b) decisions/s of OfferModel::Score for batches of visitors x 30 candidate offers
//       (the built-in catalogue's home-tile offers), the visitor-side part once per
//       decision, and the achieved GFLOP/s next to (a);
//   (c) the same one decision per call (what an unbatched caller would get).
//
//   intentstream-bench-offer [--model DIR] [--batch N] [--seconds S]
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "decide/features.h"
#include "model/blas_probe.h"
#include "model/offer_model.h"

namespace {

using namespace intentstream;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Visitors' inputs shaped like serving's (a unit-norm embedding, scores, flags, counts).
struct Visitors {
  size_t n = 0, d = 0, intents = 0, profile = 0, session = 0;
  std::vector<float> embedding, scores, prof, sess;
  Visitors(size_t count, size_t dim, const decide::FeatureBuilder& f, size_t intent_count,
           uint64_t seed)
      : n(count),
        d(dim),
        intents(intent_count),
        profile(f.profile_size()),
        session(f.session_size()) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0, 1);
    std::uniform_real_distribution<float> u(0, 1);
    for (size_t i = 0; i < n; ++i) {
      double norm = 0;
      std::vector<float> e(d);
      for (auto& x : e) {
        x = g(rng);
        norm += static_cast<double>(x) * x;
      }
      for (auto& x : e) embedding.push_back(static_cast<float>(x / std::sqrt(norm)));
      for (size_t k = 0; k < intents; ++k) scores.push_back(u(rng) < 0.2f ? u(rng) : 0.0f);
      for (size_t k = 0; k < profile; ++k) prof.push_back(u(rng) < 0.3f ? 1.0f : 0.0f);
      for (size_t k = 0; k < session; ++k) sess.push_back(u(rng) < 0.3f ? 2 * u(rng) : 0.0f);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"intentstream-bench-offer: decisions/s/thread of the offer propensity model"};
  std::string dir = "models/offer";
  size_t batch = 256;
  double seconds = 2.0;
  app.add_option("--model", dir, "offer model artifact")->capture_default_str();
  app.add_option("--batch", batch, "decisions per Score call")->capture_default_str();
  app.add_option("--seconds", seconds, "time per measurement")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  model::SetComputeThreads(1);
  const auto blas = model::ProbeBlas();
  std::printf("blas: %s\n", blas.Summary().c_str());
  const auto offer_model = model::OfferModel::Load(dir);
  const auto catalog = catalog::DefaultCatalog();
  const decide::FeatureBuilder features(std::make_shared<decide::IntentMatcher>(catalog));
  const auto prepared = offer_model->Prepare(decide::ScoringLayoutOf(*catalog, features));
  std::vector<int> offers;
  for (size_t i = 0; i < catalog->offers().size(); ++i) {
    if (catalog->offers()[i].channels[static_cast<size_t>(catalog::Channel::kHomeTile)]) {
      offers.push_back(static_cast<int>(i));
    }
  }
  const size_t pool = 4096;
  const Visitors v(pool, offer_model->spec().embedding_dim, features, catalog->intents().size(), 7);

  const auto& s = offer_model->spec();
  const double flops_per_decision =
      2.0 * static_cast<double>(offer_model->VisitorMacs() +
                                static_cast<int64_t>(offers.size()) * offer_model->OfferMacs());
  std::printf(
      "model %s: %zu semantic + %zu structured inputs, hidden %d, %d branches, offer dim "
      "%d; %zu offers per decision; %.0f FLOP per decision (visitor side %.0f)\n",
      offer_model->version().c_str(), s.semantic.size(), s.structured.size(), s.net.hidden,
      s.net.branches, s.net.offer_dim, offers.size(), flops_per_decision,
      2.0 * static_cast<double>(offer_model->VisitorMacs()));

  // (a) plain matmuls in the same run.
  const double mm_layer = model::MeasureMatmulGflops(
      static_cast<int>(std::max<size_t>(64, std::min<size_t>(batch, 512))), seconds / 2);
  const double mm_large = model::MeasureMatmulGflops(1024, seconds / 2);

  auto run = [&](size_t b) {
    std::vector<op::PropensityRequest> requests(b);
    std::vector<float> out(b * offers.size());
    size_t next = 0;
    uint64_t decisions = 0;
    float sink = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    while ((elapsed = Seconds(t0)) < seconds) {
      for (size_t r = 0; r < b; ++r, next = (next + 1) % pool) {
        auto& q = requests[r];
        q.embedding = std::span<const float>(&v.embedding[next * v.d], v.d);
        q.intents = std::span<const float>(&v.scores[next * v.intents], v.intents);
        q.profile = std::span<const float>(&v.prof[next * v.profile], v.profile);
        q.session = std::span<const float>(&v.sess[next * v.session], v.session);
        q.offers = offers;
        q.out = std::span<float>(&out[r * offers.size()], offers.size());
      }
      offer_model->Score(*prepared, requests);
      sink += out[0];
      decisions += b;
    }
    if (sink < -1) std::printf(" ");  // keeps the work observable
    return static_cast<double>(decisions) / elapsed;
  };
  const double batched = run(batch);
  const double single = run(1);
  std::printf("\n| measurement | decisions/s/thread | GFLOP/s |\n|---|---:|---:|\n");
  std::printf("| plain matmul %zux%zu (the model's batch size) | | %.1f |\n",
              std::max<size_t>(64, std::min<size_t>(batch, 512)),
              std::max<size_t>(64, std::min<size_t>(batch, 512)), mm_layer);
  std::printf("| plain matmul 1024x1024 | | %.1f |\n", mm_large);
  std::printf("| offer model, batch %zu x %zu offers | %.0f | %.2f |\n", batch, offers.size(),
              batched, batched * flops_per_decision / 1e9);
  std::printf("| offer model, one decision per call | %.0f | %.2f |\n", single,
              single * flops_per_decision / 1e9);
  std::printf("\nbatched model / plain %zu matmul: %.1f%% of its FLOP rate\n",
              std::max<size_t>(64, std::min<size_t>(batch, 512)),
              100.0 * batched * flops_per_decision / 1e9 / mm_layer);
  return 0;
}
