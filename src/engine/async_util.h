// Small bridges between callbacks and coroutines used by the engine.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <functional>
#include <memory>

#include "weft/core/mutex.h"
#include "weft/core/status.h"
#include "weft/store/store.h"

namespace weft::engine {

// Counts store callbacks that still run on a store thread. The engine waits
// for none to be left before it tears down its executor: such a callback may
// hold the last reference to a run's coroutine or strand.
class CallbackTracker {
 public:
  void Begin() {
    MutexLock lock(mu_);
    ++pending_;
  }
  void End() {
    MutexLock lock(mu_);
    if (--pending_ == 0) cv_.notify_all();
  }
  void WaitIdle() {
    MutexLock lock(mu_);
    lock.Wait(cv_, [&]() WEFT_REQUIRES(mu_) { return pending_ == 0; });
  }

 private:
  Mutex mu_;
  std::condition_variable_any cv_;
  int pending_ WEFT_GUARDED_BY(mu_) = 0;
};

// Commits and resumes the calling coroutine (on `executor`) once the commit
// is durable. A store that completes inline (the memory store) costs no
// suspension at all.
template <typename Executor>
boost::asio::awaitable<Status> CommitAwait(store::Store& store, store::Commit commit, Executor executor,
                                           CallbackTracker& tracker) {
  struct Waiter {
    Mutex mu;
    bool done WEFT_GUARDED_BY(mu) = false;
    Status status WEFT_GUARDED_BY(mu);
    std::function<void(Status)> resume WEFT_GUARDED_BY(mu);
  };
  auto w = std::make_shared<Waiter>();
  tracker.Begin();
  store.CommitAsync(std::move(commit), [w, &tracker](Status s) {
    {
      std::function<void(Status)> resume;
      {
        MutexLock lock(w->mu);
        w->status = s;
        w->done = true;
        resume = std::move(w->resume);
      }
      if (resume) resume(std::move(s));
    }  // `resume` (and what it holds of the coroutine) is gone here
    tracker.End();
  });
  {
    Status ready;
    bool done = false;
    {
      MutexLock lock(w->mu);
      done = w->done;
      if (done) ready = w->status;
    }
    if (done) co_return ready;
  }
  // The initiation is a named local: GCC 12 destroys temporaries of a
  // co_await full-expression twice in some cases.
  auto initiation = [w, executor](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    Status ready;
    {
      MutexLock lock(w->mu);
      if (!w->done) {
        w->resume = [h, executor](Status s) mutable {
          boost::asio::post(executor, [h = std::move(h), s = std::move(s)]() mutable { (*h)(std::move(s)); });
        };
        return;
      }
      ready = w->status;
    }
    boost::asio::post(executor, [h, s = std::move(ready)]() mutable { (*h)(std::move(s)); });
  };
  Status result = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Status)>(
      initiation, boost::asio::use_awaitable);
  co_return result;
}

}  // namespace weft::engine
