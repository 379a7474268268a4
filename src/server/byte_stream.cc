#include "byte_stream.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace weft::server {
namespace {

// Boost 1.81's any_completion_executor cannot be required never to block,
// which Beast's operations ask of their handler's executor: a handler is
// bound to the connection's strand, where its coroutine runs anyway (its
// allocator and cancellation slot still apply).
template <typename Handler>
auto OnStrand(ByteStream& stream, Handler handler) {
  return asio::bind_executor(stream.get_executor(), std::move(handler));
}

}  // namespace

void PlainBytes::ReadSome(asio::mutable_buffer into, IoHandler handler) {
  lowest().async_read_some(into, OnStrand(*this, std::move(handler)));
}

void PlainBytes::WriteSome(const Gathered& from, IoHandler handler) {
  lowest().async_write_some(from, OnStrand(*this, std::move(handler)));
}

void PlainBytes::Teardown(beast::role_type role, DoneHandler handler) {
  beast::websocket::async_teardown(role, lowest().socket(), OnStrand(*this, std::move(handler)));
}

void TlsBytes::ReadSome(asio::mutable_buffer into, IoHandler handler) {
  tls_.async_read_some(into, OnStrand(*this, std::move(handler)));
}

void TlsBytes::WriteSome(const Gathered& from, IoHandler handler) {
  tls_.async_write_some(from, OnStrand(*this, std::move(handler)));
}

void TlsBytes::Teardown(beast::role_type role, DoneHandler handler) {
  beast::async_teardown(role, tls_, OnStrand(*this, std::move(handler)));
}

}  // namespace weft::server
