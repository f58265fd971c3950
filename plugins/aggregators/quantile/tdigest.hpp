// A merging t-digest (Dunning & Ertl, "Computing Extremely Accurate Quantiles Using t-Digests",
// 2019): a sketch of a distribution as a sorted list of centroids (mean, weight) whose sizes
// are bounded by the k1 scale function k(q) = compression / (2 pi) * asin(2q - 1). Centroids
// near the tails stay small, so extreme quantiles are accurate; memory is O(compression).
//
// New values collect in a buffer, which is sorted and merged into the centroids when full, so
// adding a value costs a push_back and, amortised, a share of one sort and one linear pass.
// Until the first merge every value is still in the buffer and quantiles are exact.
//
// Quantiles follow Hyndman & Fan's definition 7 (NumPy's and Excel's default), generalised to
// weighted centroids: the n values take positions 0..n-1, a centroid sits at the mean position
// of the values it holds, and q maps to position q(n - 1), interpolated linearly between the
// neighbouring centroids (or the minimum and maximum at the ends). While every centroid holds a
// single value this is exactly definition 7.
#pragma once

#include <cstddef>
#include <vector>

namespace sluice::aggregators::quantile {

class TDigest {
 public:
  // `compression` (at least 1) bounds the number of centroids to about `compression`: larger
  // is more accurate and takes more memory and time.
  explicit TDigest(double compression = 100);

  void add(double value);
  // Adds everything `other` holds, as if its values had been added here.
  void merge(const TDigest& other);
  // The estimated q-quantile (0 <= q <= 1) of the values added; NaN when there are none. Not
  // const: values still in the buffer are merged first (unless they are all there are).
  double quantile(double q);

  // The number of values added.
  double count() const { return merged_weight_ + static_cast<double>(buffer_.size()); }
  double min() const { return min_; }
  double max() const { return max_; }
  double compression() const { return compression_; }
  // Centroids after merging what is buffered (for tests and memory accounting).
  size_t centroid_count();
  void clear();

 private:
  struct Centroid {
    double mean;
    double weight;
  };

  // Merges the buffer into the centroids.
  void compress();
  // Replaces the centroids by `items` (sorted by mean, `total` their summed weight), merging
  // neighbours as far as the scale function allows.
  void merge_sorted(const std::vector<Centroid>& items, double total);
  double sorted_buffer_quantile(double q);

  double compression_;
  size_t buffer_limit_;
  std::vector<Centroid> centroids_;  // sorted by mean
  std::vector<double> buffer_;       // values not merged yet
  std::vector<Centroid> scratch_;
  double merged_weight_ = 0;
  double min_, max_;
};

}  // namespace sluice::aggregators::quantile
