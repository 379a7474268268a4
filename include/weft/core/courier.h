// Completing an asynchronous operation from a thread that is not the
// caller's (a libcurl loop, a database worker) without holding anything of
// the caller's io_context once the completion is queued: the caller's
// engine may finish the run and destroy its io_context right after the
// completion runs, and a strand copy released later, on the foreign
// thread, would touch a service that is gone.
//
// Made on the caller's side (where its executor lives), handed to the
// foreign thread, used once. Until then it keeps the caller's io_context
// running (outstanding work). The completion is posted through the
// io_context's own executor and dispatched from there to the caller's
// executor (a strand), on the caller's threads; the courier then lets go
// of everything before it counts itself out. Engines wait, when they stop,
// until no courier holds anything (Outstanding()).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/strand.hpp>
#include <optional>
#include <type_traits>
#include <utility>

namespace weft {

class Courier {
 public:
  explicit Courier(boost::asio::any_io_executor target) : target_(std::move(target)) {
    // The io_context behind the executor: a strand of one, or one's own.
    using IoExecutor = boost::asio::io_context::executor_type;
    std::optional<IoExecutor> io;
    if (const IoExecutor* plain = target_.target<IoExecutor>()) io = *plain;
    if (const auto* strand = target_.target<boost::asio::strand<IoExecutor>>()) io = strand->get_inner_executor();
    if (io) io_.emplace(boost::asio::prefer(*io, boost::asio::execution::outstanding_work.tracked));
    Outstanding().fetch_add(1);
  }
  ~Courier() { Release(); }
  Courier(const Courier&) = delete;
  Courier& operator=(const Courier&) = delete;

  // From any thread, once: runs fn on the target executor.
  template <typename Fn>
  void Deliver(Fn fn) {
    if (!target_) return;
    if (io_) {
      boost::asio::post(*io_, [target = std::move(target_), fn = std::move(fn)]() mutable {
        boost::asio::dispatch(target, std::move(fn));
      });
    } else {
      boost::asio::any_io_executor target = std::move(target_);
      boost::asio::post(target, std::move(fn));
    }
    Release();
  }

  // Couriers still holding an executor, process-wide.
  static std::atomic<int>& Outstanding();

 private:
  // Lets go of the executors, then counts itself out.
  void Release() {
    if (released_) return;
    released_ = true;
    target_ = boost::asio::any_io_executor();
    io_.reset();
    Outstanding().fetch_sub(1);
  }
  using Tracked = std::decay_t<decltype(boost::asio::prefer(std::declval<boost::asio::io_context::executor_type>(),
                                                            boost::asio::execution::outstanding_work.tracked))>;
  boost::asio::any_io_executor target_;
  std::optional<Tracked> io_;
  bool released_ = false;
};

}  // namespace weft
