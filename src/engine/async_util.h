// Small bridges between callbacks and coroutines used by the engine.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

#include "weft/core/status.h"
#include "weft/store/store.h"

namespace weft::engine {

// Counts store callbacks that still run on a store thread. The engine waits
// for none to be left before it tears down its executor: such a callback may
// hold the last reference to a run's coroutine or strand.
class CallbackTracker {
 public:
  void Begin() {
    std::lock_guard lock(mu_);
    ++pending_;
  }
  void End() {
    std::lock_guard lock(mu_);
    if (--pending_ == 0) cv_.notify_all();
  }
  void WaitIdle() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return pending_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int pending_ = 0;
};

// Commits and resumes the calling coroutine (on `executor`) once the commit
// is durable. A store that completes inline (the memory store) costs no
// suspension at all.
template <typename Executor>
boost::asio::awaitable<Status> CommitAwait(store::Store& store, store::Commit commit, Executor executor,
                                           CallbackTracker& tracker) {
  struct Waiter {
    std::mutex mu;
    bool done = false;
    Status status;
    std::function<void(Status)> resume;
  };
  auto w = std::make_shared<Waiter>();
  tracker.Begin();
  store.CommitAsync(std::move(commit), [w, &tracker](Status s) {
    {
      std::function<void(Status)> resume;
      {
        std::lock_guard lock(w->mu);
        w->status = s;
        w->done = true;
        resume = std::move(w->resume);
      }
      if (resume) resume(std::move(s));
    }  // `resume` (and what it holds of the coroutine) is gone here
    tracker.End();
  });
  {
    std::lock_guard lock(w->mu);
    if (w->done) co_return w->status;
  }
  // The initiation is a named local: GCC 12 destroys temporaries of a
  // co_await full-expression twice in some cases.
  auto initiation = [w, executor](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    std::unique_lock lock(w->mu);
    if (w->done) {
      Status s = w->status;
      lock.unlock();
      boost::asio::post(executor, [h, s]() mutable { (*h)(std::move(s)); });
      return;
    }
    w->resume = [h, executor](Status s) mutable {
      boost::asio::post(executor, [h = std::move(h), s = std::move(s)]() mutable { (*h)(std::move(s)); });
    };
  };
  Status result = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Status)>(
      initiation, boost::asio::use_awaitable);
  co_return result;
}

}  // namespace weft::engine
