// Worker threads for actions whose client libraries block (SQL drivers,
// SMTP): each thread keeps its own handle (`Db`), takes jobs from one
// queue, and hands results back to the awaiting coroutine's executor, so
// the engine's threads never block on them.
#pragma once

#include <atomic>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "weft/core/courier.h"

namespace weft::actions::internal {

// Whether a job's stop flag (the attempt's `abandoned`, see ActionContext)
// is set; null means it cannot be.
inline bool Raised(const std::atomic<bool>* flag) { return flag != nullptr && flag->load(std::memory_order_acquire); }

template <typename Db>
class Workers {
 public:
  using Job = std::function<void(Db&)>;
  Workers(int threads, std::function<std::unique_ptr<Db>()> open) : open_(std::move(open)) {
    for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~Workers() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // Runs fn(db) on a worker; completes with its result. Cancelling the
  // awaiting operation does not reach the job: fn bounds its own time and
  // polls the attempt's `abandoned` flag (ActionContext). (A cancellation
  // handler that owns state was seen corrupting memory once the awaiting
  // coroutine had moved on; a flag shared with the job has no such
  // lifetime. No lambda or other temporary inside the co_await expression
  // either: GCC 12 destroys such temporaries twice.)
  template <typename T>
  boost::asio::awaitable<T> Run(std::function<T(Db&)> fn) {
    namespace asio = boost::asio;
    auto initiate = [this, fn = std::move(fn)](auto handler) mutable {
      // The worker keeps nothing of the caller once the result is on its
      // way (see Courier): the handler travels with the result.
      auto courier = std::make_shared<Courier>(asio::get_associated_executor(handler));
      auto h = std::make_shared<decltype(handler)>(std::move(handler));
      Submit([h, fn, courier](Db& db) mutable {
        T result = fn(db);
        courier->Deliver([h = std::move(h), result = std::move(result)]() mutable { (*h)(std::move(result)); });
      });
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(std::move(initiate),
                                                                                     asio::use_awaitable);
  }

 private:
  void Submit(Job job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }
  void Loop() {
    std::unique_ptr<Db> db;
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      if (db == nullptr) db = open_();
      job(*db);
    }
  }

  std::function<std::unique_ptr<Db>()> open_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace weft::actions::internal
