// Small bridges between callbacks and coroutines used by the engine.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <mutex>

#include "weft/core/status.h"
#include "weft/store/store.h"

namespace weft::engine {

// Commits and resumes the calling coroutine (on `executor`) once the commit
// is durable. A store that completes inline (the memory store) costs no
// suspension at all.
template <typename Executor>
boost::asio::awaitable<Status> CommitAwait(store::Store& store, store::Commit commit, Executor executor) {
  struct Waiter {
    std::mutex mu;
    bool done = false;
    Status status;
    std::function<void(Status)> resume;
  };
  auto w = std::make_shared<Waiter>();
  store.CommitAsync(std::move(commit), [w](Status s) {
    std::function<void(Status)> resume;
    {
      std::lock_guard lock(w->mu);
      w->status = s;
      w->done = true;
      resume = std::move(w->resume);
    }
    if (resume) resume(std::move(s));
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
    w->resume = [h, executor](Status s) {
      boost::asio::post(executor, [h, s = std::move(s)]() mutable { (*h)(std::move(s)); });
    };
  };
  Status result = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Status)>(
      initiation, boost::asio::use_awaitable);
  co_return result;
}

}  // namespace weft::engine
