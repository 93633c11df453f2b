// Which BLAS LibTorch is really calling, and how fast it is. Debian's LibTorch calls the
// generic libblas.so.3; when that resolves to the reference BLAS instead of OpenBLAS, a
// matrix product is ~20x slower (ARCHITECTURE.md §8). The processor logs this report at
// start and warns loudly when `reference_blas` is set. No torch includes.
#pragma once

#include <string>

namespace intentstream::model {

struct BlasReport {
  std::string config;           // the BLAS lines of LibTorch's build configuration
  std::string library;          // resolved path of the loaded libblas / openblas / mkl
  int threads = 0;              // LibTorch intra-op threads during the measurement
  double matmul_gflops = 0;     // measured float32 matmul rate
  bool reference_blas = false;  // the slow reference implementation is in use
  std::string Summary() const;  // one line for the log
};

// Measures a float32 n x n matmul for at least `min_seconds`. Takes ~0.2 s by default.
BlasReport ProbeBlas(int n = 512, double min_seconds = 0.2);

// LibTorch's intra-op thread count (the processor and tools set it once at start).
void SetComputeThreads(int threads);

// GFLOP/s of repeated n x n float32 matmuls on the current LibTorch threads.
double MeasureMatmulGflops(int n, double min_seconds);

}  // namespace intentstream::model
