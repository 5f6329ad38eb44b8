// install_dump_signal: a signal handler that wakes one dumping thread through a pipe.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <iostream>
#include <mutex>
#include <system_error>
#include <thread>

#include "cogo/diag/tasks.hpp"

namespace cogo::diag {
namespace {

int pipe_write_end = -1;  // written once, before any handler is installed

void on_signal(int) {
  const int saved = errno;
  const char byte = 1;
  // Async-signal-safe; a full pipe already has a dump pending, so a lost byte is fine.
  [[maybe_unused]] const ssize_t n = ::write(pipe_write_end, &byte, 1);
  errno = saved;
}

void dump_loop(int read_end) {
  for (;;) {
    char buf[64];
    const ssize_t n = ::read(read_end, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    dump_tasks(std::cerr, 2);
  }
}

}  // namespace

void install_dump_signal(int signo) {
  static std::once_flag started;
  std::call_once(started, [] {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      throw std::system_error(errno, std::generic_category(), "cogo: dump signal pipe");
    }
    ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
    pipe_write_end = fds[1];
    std::thread(dump_loop, fds[0]).detach();
  });
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(signo, &sa, nullptr) != 0) {
    throw std::system_error(errno, std::generic_category(), "cogo: sigaction");
  }
}

}  // namespace cogo::diag
