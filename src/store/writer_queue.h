// The queue between a store's callers and its writer thread: commits wait
// here while the previous batch is made durable, then go together in the
// next transaction (group commit). Shared by the SQLite and PostgreSQL
// stores, whose writer loops differ only in how they apply a batch.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <vector>

#include "weft/core/mutex.h"
#include "weft/store/store.h"

namespace weft::store::internal {

template <typename Item>
class WriterQueue {
 public:
  // Queues `item` (moved from) for the writer; false, leaving it as it is,
  // once the queue is stopped.
  bool Push(Item& item) {
    {
      MutexLock lock(mu_);
      if (stopping_) return false;
      queue_.push_back(std::move(item));
    }
    cv_.notify_one();
    return true;
  }

  // The writer's wait: fills `batch` with what is queued (at most `max`),
  // waiting for something; false once stopped with nothing left.
  bool Take(std::vector<Item>& batch, int max) {
    MutexLock lock(mu_);
    lock.Wait(cv_, [&]() WEFT_REQUIRES(mu_) { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return false;  // stopping, and drained
    while (!queue_.empty() && static_cast<int>(batch.size()) < max) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return true;
  }

  // Refuses new items; the writer still takes what is queued, then stops.
  void Stop() {
    {
      MutexLock lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
  }
  bool stopped() const {
    MutexLock lock(mu_);
    return stopping_;
  }

  // Store::ObserveCommits, and the writer's report of each batch.
  void SetObserver(const Store::CommitObserver& observer) {
    MutexLock lock(observer_mu_);
    observer_ = observer;
  }
  void Observe(size_t commits, std::chrono::steady_clock::time_point started) {
    MutexLock lock(observer_mu_);
    if (observer_) {
      observer_(commits, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
  }

 private:
  mutable Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Item> queue_ WEFT_GUARDED_BY(mu_);
  bool stopping_ WEFT_GUARDED_BY(mu_) = false;
  Mutex observer_mu_;
  Store::CommitObserver observer_ WEFT_GUARDED_BY(observer_mu_);
};

}  // namespace weft::store::internal
