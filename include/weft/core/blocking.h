// Calls that block (the store, a file) made from a coroutine without
// holding its thread: the call runs on a pool, and the coroutine resumes on
// its own executor with the result, delivered through a Courier (so an
// engine that stops waits for it). Neither the engine's nor the server's
// threads ever wait on a database this way.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <type_traits>
#include <utility>

#include "weft/core/courier.h"

namespace weft {

template <typename F>
boost::asio::awaitable<std::invoke_result_t<F>> RunBlocking(boost::asio::thread_pool& pool, F f) {
  namespace asio = boost::asio;
  using R = std::invoke_result_t<F>;
  auto executor = co_await asio::this_coro::executor;
  // The result travels as a shared_ptr: Result<T> has no empty state. The
  // initiation is a named local: GCC 12 destroys a temporary of a co_await
  // full-expression twice (here its copy of the executor, a strand, which
  // then lost a reference it never had).
  auto initiation = [&pool, &f, executor](auto handler) mutable {
    auto courier = std::make_shared<Courier>(executor);
    asio::post(pool, [f = std::move(f), courier, handler = std::move(handler)]() mutable {
      auto result = std::make_shared<R>(f());
      courier->Deliver([handler = std::move(handler), result]() mutable { handler(std::move(result)); });
    });
  };
  std::shared_ptr<R> out = co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::shared_ptr<R>)>(
      initiation, asio::use_awaitable);
  co_return std::move(*out);
}

}  // namespace weft
