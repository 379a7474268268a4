// Nearest-neighbour search over a knowledge base's chunk vectors: hnswlib's
// HNSW graph on inner product of unit vectors (cosine similarity), saved to
// a file with its checksum and the database generation it reflects, so a
// stale or damaged file is rebuilt from the database instead of loaded.
//
// Not thread-safe: the owner serialises writes against searches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "weft/core/status.h"

namespace weft::knowledge::internal {

class VectorIndex {
 public:
  explicit VectorIndex(size_t dimension);
  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  size_t dimension() const { return dimension_; }
  size_t size() const { return live_; }

  // `v` must have dimension() elements (it is normalised here).
  Status Add(int64_t id, std::vector<float> v);
  void Remove(int64_t id);
  // The `k` nearest ids with their cosine similarity, most similar first.
  std::vector<std::pair<int64_t, float>> Nearest(std::vector<float> query, size_t k) const;

  Status Save(const std::string& path, int64_t generation) const;
  // The index saved at `path` when it is intact and of `generation`;
  // nullptr (no error) when it is missing, stale or damaged.
  static std::unique_ptr<VectorIndex> Load(const std::string& path, int64_t generation);

 private:
  struct Graph;
  size_t dimension_;
  size_t live_ = 0;
  std::unique_ptr<Graph> graph_;
};

// Scales `v` to unit length (a zero vector stays zero).
void Normalize(std::vector<float>& v);

}  // namespace weft::knowledge::internal
