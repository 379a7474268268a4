// The least a durable webhook can cost on this machine: an HTTP/1.1 server
// with nothing between the socket and the disk. Each POST body is appended
// to a file, the file is flushed (pwrite + fdatasync, grouped: one flush for
// whatever arrived meanwhile) and only then is the request answered, as a
// weft webhook is. No workflow, no JSON parser, no database: what it
// measures is the floor under any durable server here, to put the peer
// benchmark's figures against (bench/RESULTS.md).
//
//   durable_floor PORT FILE [inline|writer] [sync|nosync]
//
// On 127.0.0.1:PORT (0: any free port); prints "listening on PORT".
// inline: one thread reads every ready request, flushes once, answers them
//         (no thread hand-off at all).
// writer: one thread serves HTTP, another flushes and hands the answers back
//         through an eventfd (weft's shape: engine threads and a writer).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "floor_log.h"

namespace {

struct Connection {
  std::string in;
  int unanswered = 0;  // requests read, not yet answered
  bool ended = false;  // the client closed its side
};

// One complete request at the front of `in`: its body, and its length in
// bytes; 0 when more must be read.
size_t TakeRequest(const std::string& in, std::string_view& body) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  size_t length = 0;
  const std::string_view head(in.data(), end);
  for (std::string_view name : {"Content-Length:", "content-length:"}) {
    if (size_t p = head.find(name); p != std::string_view::npos) {
      length = std::strtoul(in.c_str() + p + name.size(), nullptr, 10);
    }
  }
  if (in.size() < end + 4 + length) return 0;
  body = std::string_view(in.data() + end + 4, length);
  return end + 4 + length;
}

std::string Answer(std::string_view body) {
  const std::string json = floor_log::AnswerJson(body);
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(json.size()) +
         "\r\n\r\n" + json;
}

void Send(int fd, const std::string& data) {
  for (size_t sent = 0; sent < data.size();) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // a client gone; a benchmark's answers fit the socket buffer
    sent += static_cast<size_t>(n);
  }
}

int Listen(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 1024) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  socklen_t size = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  std::printf("listening on %d\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  return fd;
}

// A flushed group's answers, from the writer to the HTTP thread.
struct Handoff {
  std::mutex mu;
  std::condition_variable cv;
  std::string records;                               // waiting for the next flush
  std::vector<std::pair<int, std::string>> waiting;  // their answers
  std::vector<std::pair<int, std::string>> flushed;  // ready to send
  int wake = eventfd(0, EFD_NONBLOCK);
};

void Writer(floor_log::Log& log, Handoff& h) {
  std::string records;
  std::vector<std::pair<int, std::string>> answers;
  for (;;) {
    {
      std::unique_lock lock(h.mu);
      h.cv.wait(lock, [&] { return !h.waiting.empty(); });
      records.swap(h.records);
      answers.swap(h.waiting);
    }
    log.Append(records);
    records.clear();
    {
      std::lock_guard lock(h.mu);
      for (auto& a : answers) h.flushed.push_back(std::move(a));
    }
    answers.clear();
    const uint64_t one = 1;
    (void)write(h.wake, &one, sizeof one);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: durable_floor PORT FILE [inline|writer] [sync|nosync]\n");
    return 2;
  }
  const bool inline_flush = argc < 4 || std::string_view(argv[3]) == "inline";
  floor_log::Log log;
  if (!log.Open(argv[2], argc < 5 || std::string_view(argv[4]) != "nosync")) return 1;
  const int listener = Listen(std::atoi(argv[1]));
  const int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  Handoff handoff;
  ev.data.fd = handoff.wake;
  epoll_ctl(ep, EPOLL_CTL_ADD, handoff.wake, &ev);
  std::thread writer;
  if (!inline_flush) writer = std::thread([&] { Writer(log, handoff); });

  std::unordered_map<int, Connection> connections;
  // A connection is closed once its client has closed and every request it
  // sent has its answer, so that no answer goes to a reused descriptor.
  const auto Close = [&](int fd) {
    close(fd);
    connections.erase(fd);
  };
  const auto Answered = [&](int fd, const std::string& answer) {
    Send(fd, answer);
    Connection& conn = connections[fd];
    if (--conn.unanswered == 0 && conn.ended) Close(fd);
  };
  std::array<epoll_event, 256> events{};
  std::string records;
  std::vector<std::pair<int, std::string>> answers;
  char buffer[16384];
  for (;;) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        for (int c; (c = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
          const int one = 1;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLET;
          cev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          connections[c];
        }
        continue;
      }
      if (fd == handoff.wake) {
        uint64_t count = 0;
        (void)read(fd, &count, sizeof count);
        std::vector<std::pair<int, std::string>> ready;
        {
          std::lock_guard lock(handoff.mu);
          ready.swap(handoff.flushed);
        }
        for (const auto& [c, answer] : ready) Answered(c, answer);
        continue;
      }
      Connection& conn = connections[fd];
      for (;;) {  // edge-triggered: read until the socket is empty
        const ssize_t got = recv(fd, buffer, sizeof buffer, 0);
        if (got > 0) {
          conn.in.append(buffer, static_cast<size_t>(got));
          continue;
        }
        conn.ended = got == 0;
        break;
      }
      std::string_view body;
      while (size_t used = TakeRequest(conn.in, body)) {
        records.append(body);
        records.push_back('\n');
        answers.emplace_back(fd, Answer(body));
        ++conn.unanswered;
        conn.in.erase(0, used);
      }
      if (conn.ended && conn.unanswered == 0) Close(fd);
    }
    if (answers.empty()) continue;
    if (inline_flush) {
      log.Append(records);
      for (const auto& [c, answer] : answers) Answered(c, answer);
    } else {
      {
        std::lock_guard lock(handoff.mu);
        handoff.records.append(records);
        for (auto& a : answers) handoff.waiting.push_back(std::move(a));
      }
      handoff.cv.notify_one();
    }
    records.clear();
    answers.clear();
  }
}
