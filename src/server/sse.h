// What the two Server-Sent Events streams (/api/v1/events and a chat's
// /chat/<channel>/events) share once their backlog is written.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <variant>

#include "http.h"

namespace weft::server {

// Whether the client closed or sent something, once its socket was seen
// readable. The readiness may be stale (an edge the reactor reports after a
// read already took its bytes): then nothing is waiting, and the client is
// still there.
inline bool ClientLeftOrSpoke(Socket& socket) {
  char byte = 0;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

// Writes the items `channel` receives, as `frame` turns them into text (""
// skips one), and a comment every 15 s so that proxies keep an idle stream
// open; returns when the client leaves, when the channel is closed (a
// client too far behind: it reconnects and catches up) or when `stopping`.
template <class Channel, class Frame>
asio::awaitable<void> PumpEvents(const std::atomic<bool>& stopping, StreamIo& stream, std::shared_ptr<Channel> channel,
                                 Frame frame) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)
  asio::steady_timer heartbeat(co_await asio::this_coro::executor);
  while (!stopping) {
    heartbeat.expires_after(std::chrono::seconds(15));
    auto next =
        co_await (channel->async_receive(asio::as_tuple(asio::use_awaitable)) ||
                  heartbeat.async_wait(asio::as_tuple(asio::use_awaitable)) ||
                  stream.socket().async_wait(asio::socket_base::wait_read, asio::as_tuple(asio::use_awaitable)));
    std::string out;
    if (next.index() == 0) {
      auto& [err, item] = std::get<0>(next);
      if (err) co_return;
      out = frame(item);
      if (out.empty()) continue;
    } else if (next.index() == 1) {
      out = ": keep-alive\n\n";
    } else {
      if (!ClientLeftOrSpoke(stream.socket())) continue;
      co_return;  // the client closed (or sent something, which a stream does not expect)
    }
    if (!co_await stream.Write(out)) co_return;
  }
}

}  // namespace weft::server
