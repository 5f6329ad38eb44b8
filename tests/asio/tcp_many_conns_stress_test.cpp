// 10,000 concurrent connections on one process: a cogo::asio server accepts them all,
// each served by its own task, every one carries a byte both ways while all are open,
// and once the peers close, the tasks, sockets and pending operations are back to the
// baseline. The clients run in a child process (plain blocking system calls only, as
// after fork() in a threaded process nothing else is safe), so that this process holds
// the server's 10,000 sockets under its raised RLIMIT_NOFILE.
#include "cogo/asio/tcp.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "asio/asio_support.hpp"
#include "cogo/context.hpp"
#include "cogo/scheduler.hpp"
#include "cogo/task.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::Task;
using cogo::asio::Conn;
using cogo::asio::Listener;

constexpr int kConns = 10000;

class TcpManyConnsStressTest : public cogo::test::RuntimeTest {};

// Echoes one byte, then waits for the peer to close, then closes.
Task<> serve_one(Conn c, std::atomic<int>& echoed) {
  char b = 0;
  auto r = co_await c.read(cogo::background(), boost::asio::buffer(&b, 1));
  if (r.error) co_return;
  auto w = co_await c.write(cogo::background(), boost::asio::buffer(&b, 1));
  if (w.error) co_return;
  echoed.fetch_add(1, std::memory_order_relaxed);
  r = co_await c.read(cogo::background(), boost::asio::buffer(&b, 1));
  (void)c.close();
}

Task<> accept_all(Listener& ln, int n, std::atomic<int>& accepted, std::atomic<int>& echoed) {
  for (int i = 0; i < n; ++i) {
    auto [c, err] = co_await ln.accept(cogo::background());
    if (err) {
      ADD_FAILURE() << "accept " << i << ": " << err;
      co_return;
    }
    accepted.fetch_add(1, std::memory_order_relaxed);
    cogo::go(serve_one(std::move(c), echoed));
  }
}

// The child: no allocation, no locks, only system calls.
int client_fds[kConns];

[[noreturn]] void run_clients(std::uint16_t port, int report_fd, int command_fd) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char status = 'k';
  for (int i = 0; i < kConns && status == 'k'; ++i) {
    client_fds[i] = ::socket(AF_INET, SOCK_STREAM, 0);
    if (client_fds[i] < 0 ||
        ::connect(client_fds[i], reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      status = 'c';
    }
  }
  for (int i = 0; i < kConns && status == 'k'; ++i) {
    const char b = static_cast<char>(i);
    if (::write(client_fds[i], &b, 1) != 1) status = 'w';
  }
  for (int i = 0; i < kConns && status == 'k'; ++i) {
    char b = 0;
    if (::read(client_fds[i], &b, 1) != 1 || b != static_cast<char>(i)) status = 'r';
  }
  (void)!::write(report_fd, &status, 1);
  char go_on = 0;
  (void)!::read(command_fd, &go_on, 1);  // all open until the parent has counted
  for (int i = 0; i < kConns; ++i) ::close(client_fds[i]);
  ::_exit(status == 'k' ? 0 : 1);
}

// Reads one byte from fd within `timeout`; 0 if none came.
char read_within(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return 0;
  char c = 0;
  return ::read(fd, &c, 1) == 1 ? c : 0;
}

TEST_P(TcpManyConnsStressTest, TenThousandConnectionsOpenAtOnceAndAllBackToBaseline) {
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  lim.rlim_cur = lim.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_max < kConns + 200) GTEST_SKIP() << "RLIMIT_NOFILE's hard limit is " << lim.rlim_max;

  const std::int64_t sockets_before = cogo::asio::open_sockets();
  const std::int64_t pending_before = cogo::asio::pending_operations();
  const std::size_t tasks_before = sched().impl().live_tasks();
  std::atomic<int> accepted{0}, echoed{0};
  {
    Listener ln = run(cogo::test::listen_local());
    sched().go(accept_all(ln, kConns, accepted, echoed));
    int report[2], command[2];
    ASSERT_EQ(::pipe(report), 0);
    ASSERT_EQ(::pipe(command), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) run_clients(ln.port(), report[1], command[0]);
    ::close(report[1]);
    ::close(command[0]);

    EXPECT_EQ(read_within(report[0], 120s), 'k') << "the clients' report ('c' connect, 'w' write, 'r' read)";
    // All open at once: every connection accepted, echoed, and its task waiting for EOF.
    EXPECT_EQ(accepted.load(), kConns);
    // The client may read a byte before the task that wrote it has resumed.
    EXPECT_TRUE(cogo::test::eventually([&] { return echoed.load() == kConns; })) << echoed.load();
    EXPECT_EQ(cogo::asio::open_sockets() - sockets_before, kConns);
    EXPECT_TRUE(cogo::test::eventually([&] { return sched().impl().live_tasks() == tasks_before + kConns; }))
        << sched().impl().live_tasks() - tasks_before << " tasks";
    std::printf("  %d connections open; %lld sockets, %zu tasks over the baseline\n", kConns,
                static_cast<long long>(cogo::asio::open_sockets() - sockets_before),
                sched().impl().live_tasks() - tasks_before);

    (void)!::write(command[1], "x", 1);
    int status = -1;
    EXPECT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    ::close(report[0]);
    ::close(command[1]);
    ln.close();
  }
  EXPECT_TRUE(cogo::test::eventually([&] { return sched().impl().live_tasks() == tasks_before; }, 60s))
      << sched().impl().live_tasks() - tasks_before << " tasks left";
  EXPECT_TRUE(cogo::test::eventually([&] { return cogo::asio::open_sockets() == sockets_before; }, 60s))
      << cogo::asio::open_sockets() - sockets_before << " sockets left";
  EXPECT_EQ(cogo::asio::pending_operations(), pending_before);
}

COGO_RUNTIME_TEST_SUITE(TcpManyConnsStressTest);

}  // namespace
