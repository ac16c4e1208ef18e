// Sorting more fixed-size records than memory should hold: sorted runs of a bounded number of
// records spilled to an anonymous temporary file, then merged. Internal to data/ (the
// near-duplicate index streams its shingles and pairs through it).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chorus {

// An unlinked temporary file in $TMPDIR (or /tmp): it vanishes when closed, also on a crash.
class ScratchFile {
 public:
  ScratchFile();
  ~ScratchFile();
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  // Appends bytes; returns the offset they start at. std::runtime_error on a failed write.
  uint64_t append(const void* data, size_t bytes);
  // Reads bytes at an offset (all of them, or std::runtime_error).
  void read(uint64_t offset, void* data, size_t bytes) const;

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Records of type T (trivially copyable) in the order of `less`, holding at most `capacity` of
// them in memory at a time (plus one small read buffer per spilled run while merging).
// `compact`, when given, may shrink a sorted run before it is spilled (merge equal records);
// records handed to the visitor are then only sorted, not unique.
template <class T>
class SpillSorter {
 public:
  using Less = std::function<bool(const T&, const T&)>;
  using Compact = std::function<void(std::vector<T>&)>;
  SpillSorter(size_t capacity, Less less, Compact compact = nullptr)
      : capacity_(capacity < 2 ? 2 : capacity), less_(std::move(less)), compact_(std::move(compact)) {}

  void add(const T& record) {
    buffer_.push_back(record);
    if (buffer_.size() >= capacity_) spill();
  }
  // Calls visit(record) for every record added, in sorted order. Call once.
  void for_each(const std::function<void(const T&)>& visit);
  size_t runs() const { return runs_.size(); }

 private:
  struct Run {
    uint64_t offset, count;
  };
  void sort_buffer();
  void spill();

  size_t capacity_;
  Less less_;
  Compact compact_;
  std::vector<T> buffer_;
  std::vector<Run> runs_;
  ScratchFile file_;
};

}  // namespace chorus

#include "data/spill_sort_impl.h"
