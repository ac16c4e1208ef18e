// SpillSorter's template members (included by spill_sort.h only).
#pragma once
#include <algorithm>
#include <queue>
#include <type_traits>

namespace chorus {

template <class T>
void SpillSorter<T>::sort_buffer() {
  std::sort(buffer_.begin(), buffer_.end(), less_);
  if (compact_) compact_(buffer_);
}

template <class T>
void SpillSorter<T>::spill() {
  static_assert(std::is_trivially_copyable<T>::value, "records are written as bytes");
  if (buffer_.empty()) return;
  sort_buffer();
  const uint64_t offset = file_.append(buffer_.data(), buffer_.size() * sizeof(T));
  runs_.push_back({offset, buffer_.size()});
  buffer_.clear();
}

template <class T>
void SpillSorter<T>::for_each(const std::function<void(const T&)>& visit) {
  if (runs_.empty()) {  // it all fit: no file at all
    sort_buffer();
    for (const T& r : buffer_) visit(r);
    buffer_.clear();
    return;
  }
  spill();
  std::vector<T>().swap(buffer_);  // the merge's buffers take its place
  constexpr uint64_t kChunk = 4096;
  struct Cursor {
    uint64_t next = 0;          // records of the run read into `chunk` so far
    std::vector<T> chunk;
    size_t at = 0;
  };
  std::vector<Cursor> cursors(runs_.size());
  auto refill = [&](size_t k) {
    Cursor& c = cursors[k];
    const uint64_t n = std::min(kChunk, runs_[k].count - c.next);
    c.chunk.resize(n);
    if (n > 0) file_.read(runs_[k].offset + c.next * sizeof(T), c.chunk.data(), n * sizeof(T));
    c.next += n;
    c.at = 0;
    return n > 0;
  };
  auto greater = [&](size_t a, size_t b) {  // the heap's top is the smallest record
    return less_(cursors[b].chunk[cursors[b].at], cursors[a].chunk[cursors[a].at]);
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(greater)> heap(greater);
  for (size_t k = 0; k < runs_.size(); ++k)
    if (refill(k)) heap.push(k);
  while (!heap.empty()) {
    const size_t k = heap.top();
    heap.pop();
    Cursor& c = cursors[k];
    visit(c.chunk[c.at]);
    if (++c.at < c.chunk.size() || refill(k)) heap.push(k);
  }
}

}  // namespace chorus
