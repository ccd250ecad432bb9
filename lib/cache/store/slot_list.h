#pragma once
// Doubly linked lists threaded through arrays indexed by slot id, the building block of the list
// policies (LRU, FIFO, SIEVE, S3-FIFO's queues). Links live in one SlotLinks array per policy so
// several queues of one policy share it (an id is in at most one of them at a time) and moving an
// entry between queues allocates nothing.
#include <cstdint>
#include <vector>

#include "cache/store/eviction_policy.h"

namespace cachefwd::cache::store {

struct SlotLink {
  SlotId prev = kNoSlot;  // towards the head (newer)
  SlotId next = kNoSlot;  // towards the tail (older)
};

class SlotLinks {
 public:
  SlotLink& operator[](SlotId id) { return links_[id]; }
  const SlotLink& operator[](SlotId id) const { return links_[id]; }
  // Makes `id` addressable; ids are dense, so growth is amortised O(1).
  void ensure(SlotId id) {
    if (id >= links_.size()) links_.resize(static_cast<size_t>(id) + 1 + links_.size() / 2);
  }
  void clear() { links_.clear(); }

 private:
  std::vector<SlotLink> links_;
};

// Head = most recently pushed; tail = oldest. Eviction-ordered policies take victims from the tail.
class SlotList {
 public:
  SlotId head() const { return head_; }
  SlotId tail() const { return tail_; }
  std::uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void push_front(SlotLinks& links, SlotId id) {
    SlotLink& l = links[id];
    l.prev = kNoSlot;
    l.next = head_;
    if (head_ != kNoSlot) links[head_].prev = id;
    head_ = id;
    if (tail_ == kNoSlot) tail_ = id;
    ++size_;
  }
  void remove(SlotLinks& links, SlotId id) {
    SlotLink& l = links[id];
    if (l.prev != kNoSlot)
      links[l.prev].next = l.next;
    else
      head_ = l.next;
    if (l.next != kNoSlot)
      links[l.next].prev = l.prev;
    else
      tail_ = l.prev;
    l.prev = l.next = kNoSlot;
    --size_;
  }
  void move_to_front(SlotLinks& links, SlotId id) {
    if (head_ == id) return;
    remove(links, id);
    push_front(links, id);
  }
  SlotId pop_back(SlotLinks& links) {
    SlotId id = tail_;
    if (id != kNoSlot) remove(links, id);
    return id;
  }
  void clear() {
    head_ = tail_ = kNoSlot;
    size_ = 0;
  }

 private:
  SlotId head_ = kNoSlot;
  SlotId tail_ = kNoSlot;
  std::uint64_t size_ = 0;
};

}  // namespace cachefwd::cache::store
