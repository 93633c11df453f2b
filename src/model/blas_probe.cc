#include "model/blas_probe.h"

#include <link.h>
#include <torch/torch.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace intentstream::model {

namespace {

// Every loaded shared object whose name says it is a BLAS.
int CollectBlas(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  const std::string name = info->dlpi_name == nullptr ? "" : info->dlpi_name;
  if (name.find("blas") != std::string::npos || name.find("mkl") != std::string::npos) {
    char resolved[PATH_MAX];
    out->push_back(realpath(name.c_str(), resolved) != nullptr ? std::string(resolved) : name);
  }
  return 0;
}

}  // namespace

void SetComputeThreads(int threads) {
  torch::set_num_threads(threads);
}

double MeasureMatmulGflops(int n, double min_seconds) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  const auto a = torch::randn({n, n});
  const auto b = torch::randn({n, n});
  auto c = torch::mm(a, b);  // warm-up
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int64_t reps = 0;
  double elapsed = 0;
  do {
    torch::mm_out(c, a, b);
    ++reps;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < min_seconds);
  return 2.0 * n * n * static_cast<double>(n) * static_cast<double>(reps) / elapsed / 1e9;
}

BlasReport ProbeBlas(int n, double min_seconds) {
  BlasReport r;
  // Keep only the BLAS/LAPACK items of the (long) build configuration.
  const std::string all = at::show_config();
  for (const char* key : {"BLAS_INFO=", "LAPACK_INFO=", "USE_OPENMP="}) {
    const size_t at_key = all.find(key);
    if (at_key == std::string::npos) continue;
    const size_t end = all.find_first_of(",\n", at_key);
    if (!r.config.empty()) r.config += " ";
    r.config += all.substr(at_key, end == std::string::npos ? std::string::npos : end - at_key);
  }
  std::vector<std::string> libs;
  dl_iterate_phdr(&CollectBlas, &libs);
  for (const auto& l : libs) r.library += (r.library.empty() ? "" : ", ") + l;
  r.threads = torch::get_num_threads();
  r.matmul_gflops = MeasureMatmulGflops(n, min_seconds);
  bool optimized = false;
  bool reference = false;
  for (const auto& l : libs) {
    if (l.find("openblas") != std::string::npos || l.find("mkl") != std::string::npos ||
        l.find("blis") != std::string::npos || l.find("atlas") != std::string::npos) {
      optimized = true;
    } else if (l.find("/blas/libblas") != std::string::npos) {
      reference = true;  // Debian's netlib reference build lives under .../blas/
    }
  }
  // Without a recognisable path, judge by speed: reference BLAS stays in single digits.
  r.reference_blas = reference || (!optimized && r.matmul_gflops < 10.0);
  return r;
}

std::string BlasReport::Summary() const {
  std::ostringstream os;
  os << "blas library=" << (library.empty() ? "unknown" : library)
     << " matmul_gflops=" << matmul_gflops << " threads=" << threads
     << " reference_blas=" << (reference_blas ? "true" : "false") << " build=\"" << config << "\"";
  if (reference_blas) {
    os << " WARNING: the reference BLAS is ~20x slower; install libopenblas0-openmp";
  }
  return os.str();
}

}  // namespace intentstream::model
