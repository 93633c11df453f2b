// Personas: k-means clusters of visitors over the session embedding and the profile
// features (each block centred and scaled to a total variance of one, so that both
// count the same), k
// chosen by the silhouette within a range, seeded (k-means++ from a fixed seed). Each
// persona carries a readable description: the features that set it apart from the
// population (in standard deviations), including descriptive-only ones such as the
// visitors' top intents. The persona names the segment of the online posteriors.
// No torch includes.
//
// Thread-safety: a fitted PersonaSet is immutable; Assign may be called from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace intentstream::model {

struct PersonaSet {
  // The clustering space: feature names (matched by name at serving), each feature's
  // centre and scale (its block's).
  std::vector<std::string> features;
  std::vector<float> mean, scale;  // z = (x - mean) * scale
  size_t k = 0;
  std::vector<float> centroids;  // k x features.size(), in z space
  std::vector<std::string> names;
  std::vector<std::string> descriptions;
  std::vector<double> shares;  // share of the fitting rows per persona
  double silhouette = 0;       // of the chosen k (on the fitting sample)

  bool empty() const { return k == 0; }
  // Index of the nearest centroid of z-space row `z` (features.size() values).
  int Assign(std::span<const float> z) const;
  // Text file: one "key = value" header block, then one line per persona and centroid.
  void Save(const std::string& path) const;
  // Throws ModelError naming the file and line.
  static PersonaSet Load(const std::string& path);
};

struct PersonaOptions {
  int k_min = 3;
  int k_max = 8;
  uint64_t seed = 7;
  int iterations = 60;  // Lloyd iterations at most
  size_t silhouette_sample = 2000;
  size_t max_rows = 30000;  // rows used for fitting (a seeded sample beyond)
};

// One block of clustering features (e.g. the embedding, the profile).
struct PersonaBlock {
  std::vector<std::string> names;
  std::span<const float> rows;  // n x names.size()
  bool describe = true;         // may appear in descriptions (false: embedding dimensions)
};
// Descriptive-only features (not clustered), e.g. intent scores.
struct PersonaDescriptors {
  std::vector<std::string> names;
  std::span<const float> rows;  // n x names.size()
};

// Fits personas on n rows. `report` (optional) receives one line per k tried.
PersonaSet FitPersonas(const std::vector<PersonaBlock>& blocks, const PersonaDescriptors& extra,
                       size_t n, const PersonaOptions& options, std::string* report);

}  // namespace intentstream::model
