#include "cogo/custom_context.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cogo::errc;
using cogo::Error;

const cogo::Key<std::string> peer{"peer"};

// A context fed by a foreign source: a connection that reports its own end.
class ConnectionContext : public cogo::CustomContext {
 public:
  ConnectionContext(const cogo::Context& parent, std::string address)
      : CustomContext(parent, "net.Connection"), address_(std::move(address)) {}

  void on_closed(Error why) { cancel(std::move(why)); }
  static constexpr int kCancelLine = __LINE__ - 1;

 protected:
  cogo::detail::ValueHit find_value(const cogo::KeyBase* key) const noexcept override {
    if (key == &peer) return {true, &address_};
    return {false, nullptr};
  }

 private:
  std::string address_;
};

TEST(CustomContextTest, ForeignCancelReachesChildrenWithItsCause) {
  auto conn = cogo::make_context<ConnectionContext>(cogo::background(), "10.0.0.7:443");
  cogo::Context ctx = conn->context();
  auto [child, cancel] = cogo::with_cancel(ctx);
  auto [timed, tcancel] = cogo::with_timeout(child, 1h);
  cogo::test::Signal fired;
  auto stop = cogo::after_func(timed, [=] { fired.set(); });
  EXPECT_FALSE(timed.is_done());

  std::thread io([c = conn] { c->on_closed(Error(std::make_error_code(std::errc::connection_reset),
                                                 "peer went away")); });
  io.join();
  ASSERT_TRUE(timed.is_done());
  EXPECT_EQ(timed.err(), errc::canceled);
  EXPECT_TRUE(cogo::cause(timed).is(std::errc::connection_reset));
  EXPECT_TRUE(fired.wait_for());
}

TEST(CustomContextTest, ServesItsOwnValuesAndItsParents) {
  static const cogo::Key<int> tenant{"tenant"};
  auto parent = cogo::with_value(cogo::background(), tenant, 42);
  auto conn = cogo::make_context<ConnectionContext>(parent, "10.0.0.7:443");
  auto ctx = cogo::with_value(conn->context(), tenant, 43);
  EXPECT_EQ(*ctx.value(peer), "10.0.0.7:443");
  EXPECT_EQ(*ctx.value(tenant), 43);
  EXPECT_EQ(*conn->context().value(tenant), 42);
}

TEST(CustomContextTest, IsCancelledWithItsParent) {
  auto [parent, cancel] = cogo::with_cancel_cause(cogo::background());
  auto conn = cogo::make_context<ConnectionContext>(parent, "a");
  cancel(Error("parent gone"));
  EXPECT_TRUE(conn->context().is_done());
  EXPECT_EQ(cogo::cause(conn->context()), cogo::cause(parent));
  EXPECT_EQ(cogo::cause(conn->context()).cause().message(), "parent gone");
}

TEST(CustomContextTest, DescribesItselfByName) {
  auto conn = cogo::make_context<ConnectionContext>(cogo::background(), "a");
  auto [ctx, cancel] = cogo::with_cancel(conn->context());
  EXPECT_EQ(ctx.describe(), "net.Connection.WithCancel");
  conn->on_closed(Error("eof", cogo::source_location()));
  // The cancel site is where on_closed called cancel().
  EXPECT_EQ(ctx.describe(), "net.Connection.WithCancel [context canceled at "
                            "tests/unit/custom_context_test.cpp:" +
                                std::to_string(ConnectionContext::kCancelLine) + " (eof)]");
}

TEST(CustomContextTest, NoThreadWatchesIt) {
  cogo::test::warm_up_runtime();
  const int threads = cogo::test::thread_count();
  std::vector<cogo::Ref<ConnectionContext>> conns;
  std::vector<cogo::Cancelable<cogo::CancelFunc>> kids;
  std::vector<cogo::AfterFunc> stops;
  for (int i = 0; i < 100; ++i) {
    conns.push_back(cogo::make_context<ConnectionContext>(cogo::background(), "x"));
    kids.push_back(cogo::with_cancel(conns.back()->context()));
    kids.push_back(cogo::with_timeout(conns.back()->context(), 1h));
    stops.push_back(cogo::after_func(conns.back()->context(), [] {}));
  }
  EXPECT_EQ(cogo::test::thread_count(), threads);
  for (auto& c : conns) c->on_closed(Error("closed"));
  for (auto& k : kids) EXPECT_TRUE(k.ctx.is_done());
  EXPECT_EQ(cogo::test::thread_count(), threads);
}

// Counts its own destructions, so a test can see that nothing keeps it alive.
class Counted : public cogo::CustomContext {
 public:
  static inline std::atomic<int> destroyed{0};
  explicit Counted(const cogo::Context& parent) : CustomContext(parent, "test.Counted") {}
  ~Counted() override { destroyed.fetch_add(1); }
  void close() { cancel(); }
};

TEST(CustomContextTest, NestedCustomContextsNeverCancelledAreFreedWithTheirLastHandle) {
  // A custom child is listed in its cancelable parent; the list must not keep it alive,
  // or a never-cancelled custom parent and its custom child would hold each other.
  Counted::destroyed = 0;
  auto [root, cancel] = cogo::with_cancel(cogo::background());
  {
    cogo::Context ctx = root;
    for (int i = 0; i < 10; ++i) {
      ctx = cogo::make_context<Counted>(ctx)->context();
      ctx = cogo::with_value(ctx, peer, std::to_string(i));
    }
    EXPECT_EQ(Counted::destroyed.load(), 0);
    EXPECT_EQ(*ctx.value(peer), "9");
  }
  EXPECT_EQ(Counted::destroyed.load(), 10);
  auto* node = static_cast<cogo::detail::CancelNode*>(root.node());
  EXPECT_EQ(node->link_count(), 0U);  // the outermost one unlinked itself from the root
}

TEST(CustomContextTest, ACustomChildDroppedWhileItsParentCancelsIsFreedOnce) {
  Counted::destroyed = 0;
  const int rounds = cogo::test::scaled(300);
  for (int r = 0; r < rounds; ++r) {
    auto [root, cancel] = cogo::with_cancel(cogo::background());
    std::vector<cogo::Ref<Counted>> kids;
    for (int i = 0; i < 16; ++i) kids.push_back(cogo::make_context<Counted>(root));
    std::thread dropper([&kids] { kids.clear(); });
    cancel();
    dropper.join();
  }
  EXPECT_EQ(Counted::destroyed.load(), rounds * 16);
}

TEST(CustomContextTest, ACancelledParentCancelsAKeptCustomChildAndLetsItGo) {
  Counted::destroyed = 0;
  auto [root, cancel] = cogo::with_cancel(cogo::background());
  auto kid = cogo::make_context<Counted>(root);
  auto [grandchild, gcancel] = cogo::with_cancel(kid->context());
  cancel();
  EXPECT_TRUE(grandchild.is_done());
  EXPECT_EQ(Counted::destroyed.load(), 0);
  kid = nullptr;
  EXPECT_EQ(Counted::destroyed.load(), 0);  // the grandchild still refers to it
  grandchild = cogo::background();
  gcancel = {};
  EXPECT_EQ(Counted::destroyed.load(), 1);
}

}  // namespace
