#include "aggregators/quantile/tdigest.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace sluice::aggregators::quantile {
namespace {

// The merge pass needs room for the centroids and the buffer together; one scratch vector per
// thread serves every digest, so each digest only keeps what it must.
template <typename T>
std::vector<T>& scratch() {
  thread_local std::vector<T> items;
  return items;
}

}  // namespace

TDigest::TDigest(double compression)
    : compression_(std::max(compression, 1.0)),
      // Large enough that sorting and merging are rare per value, small enough to keep memory
      // per digest a few kilobytes; it is also how many values stay exact.
      buffer_limit_(static_cast<size_t>(std::ceil(4 * compression_))),
      min_(std::numeric_limits<double>::infinity()),
      max_(-std::numeric_limits<double>::infinity()) {}

void TDigest::add(double value) {
  if (value < min_) min_ = value;
  if (value > max_) max_ = value;
  if (buffer_.size() == buffer_limit_) compress();
  if (buffer_.size() == buffer_.capacity()) {
    // Grow in steps up to the limit exactly, not past it as doubling would.
    buffer_.reserve(std::min(buffer_limit_, std::max<size_t>(16, 2 * buffer_.capacity())));
  }
  buffer_.push_back(value);
}

void TDigest::compress() {
  if (buffer_.empty()) return;
  std::sort(buffer_.begin(), buffer_.end());
  std::vector<Centroid>& items = scratch<Centroid>();
  items.clear();
  items.reserve(centroids_.size() + buffer_.size());
  // Both are sorted: one merge keeps the result sorted.
  auto c = centroids_.begin();
  for (double v : buffer_) {
    while (c != centroids_.end() && c->mean <= v) items.push_back(*c++);
    items.push_back(Centroid{v, 1});
  }
  items.insert(items.end(), c, centroids_.end());
  const double total = merged_weight_ + static_cast<double>(buffer_.size());
  buffer_.clear();
  merge_sorted(items, total);
}

void TDigest::merge_sorted(const std::vector<Centroid>& items, double total) {
  centroids_.clear();
  merged_weight_ = total;
  if (items.empty()) return;
  // A centroid may grow while its right edge stays within one unit of k from its left edge:
  // the largest cumulative weight it may reach, given the weight before it.
  const double norm = compression_ / (2 * std::numbers::pi);
  auto limit_after = [&](double before) {
    const double k = norm * std::asin(std::clamp(2 * before / total - 1, -1.0, 1.0)) + 1;
    const double angle = k / norm;
    if (angle >= std::numbers::pi / 2) return total;
    return total * (std::sin(angle) + 1) / 2;
  };
  Centroid current = items.front();
  double before = 0;
  double limit = limit_after(0);
  for (size_t i = 1; i < items.size(); ++i) {
    const Centroid& next = items[i];
    if (before + current.weight + next.weight <= limit) {
      current.weight += next.weight;
      current.mean += (next.mean - current.mean) * next.weight / current.weight;
    } else {
      before += current.weight;
      centroids_.push_back(current);
      limit = limit_after(before);
      current = next;
    }
  }
  centroids_.push_back(current);
}

void TDigest::merge(const TDigest& other) {
  if (other.count() == 0) return;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  if (centroids_.empty() && other.centroids_.empty() &&
      buffer_.size() + other.buffer_.size() <= buffer_limit_) {
    // Still small enough to keep every value, and so to stay exact.
    buffer_.insert(buffer_.end(), other.buffer_.begin(), other.buffer_.end());
    return;
  }
  std::vector<Centroid>& items = scratch<Centroid>();
  items.clear();
  items.reserve(centroids_.size() + other.centroids_.size() + buffer_.size() +
                other.buffer_.size());
  items.insert(items.end(), centroids_.begin(), centroids_.end());
  items.insert(items.end(), other.centroids_.begin(), other.centroids_.end());
  for (double v : buffer_) items.push_back(Centroid{v, 1});
  for (double v : other.buffer_) items.push_back(Centroid{v, 1});
  std::sort(items.begin(), items.end(),
            [](const Centroid& a, const Centroid& b) { return a.mean < b.mean; });
  const double total = count() + other.count();
  buffer_.clear();
  merge_sorted(items, total);
}

double TDigest::sorted_buffer_quantile(double q) {
  std::sort(buffer_.begin(), buffer_.end());
  const size_t n = buffer_.size();
  const double h = q * static_cast<double>(n - 1);
  const size_t j = static_cast<size_t>(h);
  if (j + 1 >= n) return buffer_[n - 1];
  return buffer_[j] + (h - static_cast<double>(j)) * (buffer_[j + 1] - buffer_[j]);
}

double TDigest::quantile(double q) {
  if (count() == 0) return std::numeric_limits<double>::quiet_NaN();
  q = std::clamp(q, 0.0, 1.0);
  if (centroids_.empty()) return sorted_buffer_quantile(q);
  // The ends are known exactly. Centroids may overlap near the ends (a later value can land
  // beyond a large last centroid that holds the maximum), so the centroids alone cannot say.
  if (q == 0) return min_;
  if (q == 1) return max_;
  compress();
  const double last_position = merged_weight_ - 1;
  const double h = q * last_position;
  // Walk the centroids' positions, starting from the minimum at position 0.
  double previous_position = 0;
  double previous_value = min_;
  double before = 0;
  for (const Centroid& c : centroids_) {
    const double position = before + (c.weight - 1) / 2;
    if (h <= position) {
      if (position <= previous_position) return c.mean;
      return previous_value +
             (c.mean - previous_value) * (h - previous_position) / (position - previous_position);
    }
    previous_position = position;
    previous_value = c.mean;
    before += c.weight;
  }
  // Past the last centroid: toward the maximum at the last position.
  if (last_position <= previous_position) return max_;
  return previous_value +
         (max_ - previous_value) * (h - previous_position) / (last_position - previous_position);
}

size_t TDigest::centroid_count() {
  compress();
  return centroids_.size();
}

void TDigest::clear() {
  centroids_.clear();
  buffer_.clear();
  merged_weight_ = 0;
  min_ = std::numeric_limits<double>::infinity();
  max_ = -std::numeric_limits<double>::infinity();
}

}  // namespace sluice::aggregators::quantile
