#pragma once
// A small open-addressing map from 64-bit hashes to 64-bit values (linear probing, backward-shift
// deletion, load <= 1/2). Keys must already be well mixed (base/hash.h output): the home bucket is
// the key's low bits. Used for S3-FIFO's ghost, where std::unordered_map's node allocation per
// insert dominated simulation time.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace cachefwd::cache::store {

class FlatHashMap64 {
 public:
  FlatHashMap64() { reset(16); }

  size_t size() const { return size_; }

  // Value for `key`, or nullopt.
  std::optional<std::uint64_t> find(std::uint64_t key) const {
    for (size_t i = key & mask_;; i = (i + 1) & mask_) {
      const Cell& c = cells_[i];
      if (c.value_plus1 == 0) return std::nullopt;
      if (c.key == key) return c.value_plus1 - 1;
    }
  }
  // Inserts or overwrites.
  void put(std::uint64_t key, std::uint64_t value) {
    if ((size_ + 1) * 2 > cells_.size()) grow();
    size_t i = key & mask_;
    for (;; i = (i + 1) & mask_) {
      Cell& c = cells_[i];
      if (c.value_plus1 == 0) break;
      if (c.key == key) {
        c.value_plus1 = value + 1;
        return;
      }
    }
    cells_[i] = Cell{key, value + 1};
    ++size_;
  }
  bool erase(std::uint64_t key) {
    size_t i = key & mask_;
    for (;; i = (i + 1) & mask_) {
      if (cells_[i].value_plus1 == 0) return false;
      if (cells_[i].key == key) break;
    }
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      const Cell& c = cells_[j];
      if (c.value_plus1 == 0) break;
      const size_t home = c.key & mask_;
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        cells_[i] = c;
        i = j;
      }
    }
    cells_[i] = Cell{};
    --size_;
    return true;
  }
  void clear() { reset(16); }

 private:
  struct Cell {
    std::uint64_t key = 0;
    std::uint64_t value_plus1 = 0;  // 0 = empty cell
  };
  void reset(size_t n) {
    cells_.assign(n, Cell{});
    mask_ = n - 1;
    size_ = 0;
  }
  void grow() {
    std::vector<Cell> old = std::move(cells_);
    reset(old.size() * 2);
    for (const Cell& c : old) {
      if (c.value_plus1 != 0) put(c.key, c.value_plus1 - 1);
    }
  }
  std::vector<Cell> cells_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace cachefwd::cache::store
