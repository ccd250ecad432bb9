#include "cache/store/s3fifo_policy.h"

#include <algorithm>

namespace cachefwd::cache::store {

bool S3FifoPolicy::Ghost::remove(std::uint64_t hash) {
  const auto seq = index_.find(hash);
  if (!seq) return false;
  bytes_ -= at(*seq).charge;
  index_.erase(hash);
  return true;
}

void S3FifoPolicy::Ghost::pop_front() {
  const Item& item = at(front_seq_);
  if (const auto seq = index_.find(item.hash); seq && *seq == front_seq_) {
    bytes_ -= item.charge;
    index_.erase(item.hash);
  }
  ++front_seq_;
}

// Drops stale items so the ring stays proportional to the live entries even while the ghost never
// fills (ghost hits remove items from the middle).
void S3FifoPolicy::Ghost::compact() {
  std::vector<Item> live;
  live.reserve(index_.size());
  for (std::uint64_t seq = front_seq_; seq != end_seq_; ++seq) {
    const Item& item = at(seq);
    if (const auto s = index_.find(item.hash); s && *s == seq) live.push_back(item);
  }
  size_t cap = 16;
  while (cap < 2 * live.size() + 2) cap *= 2;
  ring_.assign(cap, Item{});
  index_.clear();
  front_seq_ = 0;
  end_seq_ = 0;
  for (const Item& item : live) {
    index_.put(item.hash, end_seq_);
    at(end_seq_++) = item;
  }
}

void S3FifoPolicy::Ghost::insert(std::uint64_t hash, std::uint64_t charge) {
  // libCacheSim inserts with a FIFO cache's get(): already present = no change.
  if (index_.find(hash)) return;
  if (charge > cap_bytes_) return;
  while (front_seq_ != end_seq_ &&
         (bytes_ + charge > cap_bytes_ || (cap_entries_ != 0 && index_.size() + 1 > cap_entries_))) {
    pop_front();
  }
  if (end_seq_ - front_seq_ == ring_.size()) {
    if (end_seq_ - front_seq_ > 2 * index_.size() + 1024) {
      compact();
    } else {
      std::vector<Item> bigger(ring_.size() * 2);
      for (std::uint64_t seq = front_seq_; seq != end_seq_; ++seq)
        bigger[seq & (bigger.size() - 1)] = at(seq);
      ring_.swap(bigger);
    }
  }
  index_.put(hash, end_seq_);
  at(end_seq_++) = Item{hash, charge};
  bytes_ += charge;
}

void S3FifoPolicy::Ghost::clear() {
  ring_.assign(16, Item{});
  index_.clear();
  front_seq_ = end_seq_ = 0;
  bytes_ = 0;
}

void S3FifoPolicy::set_capacity(std::uint64_t max_bytes, std::uint64_t max_entries) {
  // Same arithmetic as libCacheSim: the small share is truncated, main gets the rest.
  small_cap_bytes_ = static_cast<std::uint64_t>(static_cast<double>(max_bytes) * options_.small_ratio);
  main_cap_bytes_ = max_bytes - small_cap_bytes_;
  const auto ghost_bytes = static_cast<std::uint64_t>(static_cast<double>(max_bytes) * options_.ghost_ratio);
  if (max_entries != 0) {
    small_cap_entries_ = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(static_cast<double>(max_entries) * options_.small_ratio));
    main_cap_entries_ = max_entries > small_cap_entries_ ? max_entries - small_cap_entries_ : 1;
    ghost_.set_capacity(
        ghost_bytes, std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(max_entries) *
                                                                           options_.ghost_ratio)));
  } else {
    small_cap_entries_ = main_cap_entries_ = 0;
    ghost_.set_capacity(ghost_bytes, 0);
  }
}

bool S3FifoPolicy::small_full() const {
  return small_bytes_ >= small_cap_bytes_ || (small_cap_entries_ != 0 && small_.size() >= small_cap_entries_);
}

bool S3FifoPolicy::main_over() const {
  return main_bytes_ > main_cap_bytes_ || (main_cap_entries_ != 0 && main_.size() > main_cap_entries_);
}

bool S3FifoPolicy::admit(std::uint64_t key_hash, std::uint64_t charge) {
  // The ghost lookup consumes the entry whether or not the object is then admitted, as
  // libCacheSim's find() does.
  pending_ghost_hit_ = ghost_.remove(key_hash);
  if (charge > small_cap_bytes_ || (!pending_ghost_hit_ && charge >= small_cap_bytes_)) {
    pending_ghost_hit_ = false;
    return false;
  }
  return true;
}

void S3FifoPolicy::push_small(SlotId id) {
  meta_[id].queue = kSmall;
  small_.push_front(links_, id);
  small_bytes_ += meta_[id].charge;
}

void S3FifoPolicy::push_main(SlotId id) {
  meta_[id].queue = kMain;
  main_.push_front(links_, id);
  main_bytes_ += meta_[id].charge;
}

void S3FifoPolicy::on_insert(SlotId id, std::uint64_t key_hash, std::uint64_t charge) {
  links_.ensure(id);
  if (id >= meta_.size()) meta_.resize(static_cast<size_t>(id) + 1 + meta_.size() / 2);
  meta_[id] = Meta{key_hash, charge, 0, kNone};
  if (pending_ghost_hit_ || (options_.insert_to_main_while_warming && !has_evicted_ && small_full())) {
    push_main(id);
  } else {
    push_small(id);
  }
  pending_ghost_hit_ = false;
}

void S3FifoPolicy::on_erase(SlotId id) {
  Meta& m = meta_[id];
  if (m.queue == kSmall) {
    small_.remove(links_, id);
    small_bytes_ -= m.charge;
  } else if (m.queue == kMain) {
    main_.remove(links_, id);
    main_bytes_ -= m.charge;
  }
  m.queue = kNone;
}

SlotId S3FifoPolicy::evict() {
  has_evicted_ = true;
  for (;;) {
    if (small_.empty() && main_.empty()) return kNoSlot;
    if (main_over() || small_.empty()) {
      // Main is a CLOCK with a 2-bit counter; each pass decrements, so this ends within 3 laps.
      for (;;) {
        const SlotId id = main_.tail();
        Meta& m = meta_[id];
        if (m.freq >= 1) {
          m.freq = static_cast<std::uint8_t>(std::min<int>(m.freq, 3) - 1);
          main_.move_to_front(links_, id);
        } else {
          main_.remove(links_, id);
          main_bytes_ -= m.charge;
          m.queue = kNone;
          return id;
        }
      }
    }
    while (!small_.empty()) {
      const SlotId id = small_.pop_back(links_);
      Meta& m = meta_[id];
      small_bytes_ -= m.charge;
      if (m.freq >= options_.move_to_main_threshold) {
        m.freq = 0;
        push_main(id);
      } else {
        m.queue = kNone;
        ghost_.insert(m.hash, m.charge);
        return id;
      }
    }
    // Everything in small was promoted; decide again (main now holds all of it).
  }
}

void S3FifoPolicy::clear() {
  small_.clear();
  main_.clear();
  links_.clear();
  meta_.clear();
  ghost_.clear();
  small_bytes_ = main_bytes_ = 0;
  has_evicted_ = false;
  pending_ghost_hit_ = false;
}

}  // namespace cachefwd::cache::store
