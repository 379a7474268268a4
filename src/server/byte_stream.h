// A connection's bytes, plain or under TLS, behind one type.
//
// Beast's HTTP and WebSocket code is templated on the stream it runs over;
// instantiated once for plain TCP and once for TLS it made http.cc the
// slowest file of every build by far (minutes, gigabytes of compiler memory).
// Over ByteStream it is compiled once: each read or write costs one virtual
// call and a type-erased handler (allocated through the handler's recycling
// allocator), nothing next to a system call.
#pragma once

#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstddef>

#include "http.h"

namespace weft::server {

class ByteStream {
 public:
  using executor_type = Stream::executor_type;
  using IoHandler = asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
  using DoneHandler = asio::any_completion_handler<void(boost::system::error_code)>;

  // Up to kMaxGather buffers of one write, passed on by value (the operation
  // below keeps its own copy while it runs). A longer sequence is written in
  // more than one write_some, which its callers loop over anyway.
  struct Gathered {
    static constexpr std::size_t kMaxGather = 16;
    std::array<asio::const_buffer, kMaxGather> buffers;
    std::size_t count = 0;
    const asio::const_buffer* begin() const { return buffers.data(); }
    const asio::const_buffer* end() const { return buffers.data() + count; }
  };

  explicit ByteStream(Stream& lowest) : lowest_(lowest) {}
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;
  virtual ~ByteStream() = default;

  executor_type get_executor() { return lowest_.get_executor(); }
  // The TCP stream underneath, with its deadline.
  Stream& lowest() { return lowest_; }

  // AsyncReadStream: reads into the first non-empty buffer (a read_some may
  // always read less than it was offered).
  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    asio::mutable_buffer first;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      first = asio::mutable_buffer(*it);
      if (first.size() > 0) break;
    }
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, asio::mutable_buffer into) { ReadSome(into, IoHandler(std::move(handler))); }, token,
        first);
  }

  // AsyncWriteStream.
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    Gathered gathered;
    for (auto it = asio::buffer_sequence_begin(buffers);
         it != asio::buffer_sequence_end(buffers) && gathered.count < Gathered::kMaxGather; ++it) {
      asio::const_buffer b(*it);
      if (b.size() > 0) gathered.buffers[gathered.count++] = b;
    }
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Gathered& from) { WriteSome(from, IoHandler(std::move(handler))); }, token,
        gathered);
  }

  // A WebSocket's closing of the transport (Beast finds it as async_teardown).
  virtual void Teardown(beast::role_type role, DoneHandler handler) = 0;

 protected:
  virtual void ReadSome(asio::mutable_buffer into, IoHandler handler) = 0;
  virtual void WriteSome(const Gathered& from, IoHandler handler) = 0;

 private:
  Stream& lowest_;
};

template <typename Handler>
void async_teardown(beast::role_type role, ByteStream& stream, Handler&& handler) {
  stream.Teardown(role, ByteStream::DoneHandler(std::forward<Handler>(handler)));
}

// Closing after a WebSocket failed (Beast finds it as beast_close_socket).
inline void beast_close_socket(ByteStream& stream) { stream.lowest().close(); }

// The bytes as they are on the socket.
class PlainBytes final : public ByteStream {
 public:
  explicit PlainBytes(Stream& stream) : ByteStream(stream) {}
  void Teardown(beast::role_type role, DoneHandler handler) override;

 private:
  void ReadSome(asio::mutable_buffer into, IoHandler handler) override;
  void WriteSome(const Gathered& from, IoHandler handler) override;
};

// The bytes under a TLS session (its handshake is done by the caller).
class TlsBytes final : public ByteStream {
 public:
  TlsBytes(Stream& stream, asio::ssl::context& context) : ByteStream(stream), tls_(stream, context) {}
  beast::ssl_stream<Stream&>& tls() { return tls_; }
  void Teardown(beast::role_type role, DoneHandler handler) override;

 private:
  void ReadSome(asio::mutable_buffer into, IoHandler handler) override;
  void WriteSome(const Gathered& from, IoHandler handler) override;

  beast::ssl_stream<Stream&> tls_;
};

}  // namespace weft::server
