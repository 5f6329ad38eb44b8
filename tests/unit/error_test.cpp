#include "cogo/error.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <system_error>

namespace {

using cogo::errc;
using cogo::Error;

TEST(ErrorTest, DefaultIsNoError) {
  const Error e;
  EXPECT_FALSE(e);
  EXPECT_FALSE(e.is(errc::canceled));
  EXPECT_FALSE(e.cause());
  EXPECT_EQ(e.to_string(), "<nil>");
}

TEST(ErrorTest, CodesHaveGoTextAndStdEquivalents) {
  const Error c(errc::canceled);
  const Error d(errc::deadline_exceeded);
  EXPECT_EQ(c.code().message(), "context canceled");
  EXPECT_EQ(d.code().message(), "context deadline exceeded");
  EXPECT_EQ(c.code().category().name(), std::string("cogo"));
  EXPECT_TRUE(c.code() == std::errc::operation_canceled);
  EXPECT_TRUE(d.code() == std::errc::timed_out);
  EXPECT_FALSE(c.is_timeout());
  EXPECT_TRUE(d.is_timeout());
  EXPECT_TRUE(Error(std::make_error_code(std::errc::timed_out)).is_timeout());
}

TEST(ErrorTest, RecordsTheSiteItWasRaisedAt) {
  const int line = __LINE__ + 1;
  const Error e(errc::canceled);
  EXPECT_TRUE(e.has_site());
  EXPECT_EQ(e.where().line(), static_cast<unsigned>(line));
  EXPECT_EQ(e.to_string(), "context canceled at tests/unit/error_test.cpp:" + std::to_string(line));
}

TEST(ErrorTest, MessageOnlyErrorPrintsItsMessage) {
  const Error e("boom", cogo::source_location());
  EXPECT_TRUE(e);
  EXPECT_EQ(e.code(), errc::unknown);
  EXPECT_EQ(e.message(), "boom");
  EXPECT_EQ(e.to_string(), "boom");
}

TEST(ErrorTest, CodeAndMessagePrintLikeGoWrapping) {
  const Error e(std::make_error_code(std::errc::connection_reset), "client disconnected",
                cogo::source_location());
  EXPECT_EQ(e.to_string(),
            "client disconnected: " + std::make_error_code(std::errc::connection_reset).message());
  EXPECT_TRUE(e.is(std::errc::connection_reset));
}

TEST(ErrorTest, ContextCodeMessageIsANote) {
  const Error e(cogo::make_error_code(errc::deadline_exceeded), "deadline set at x.cpp:10, 250ms",
                cogo::source_location());
  EXPECT_EQ(e.to_string(), "context deadline exceeded (deadline set at x.cpp:10, 250ms)");
}

TEST(ErrorTest, CauseChainIsWalkedByIs) {
  const Error root(std::make_error_code(std::errc::connection_reset), "read failed");
  const Error mid("client disconnected", root);
  const Error top(cogo::make_error_code(errc::canceled), "", mid);
  EXPECT_TRUE(top.is(errc::canceled));
  EXPECT_TRUE(top.is(std::errc::connection_reset));
  EXPECT_TRUE(top.is(root));
  EXPECT_TRUE(top.is(mid));
  EXPECT_FALSE(top.is(errc::deadline_exceeded));
  EXPECT_FALSE(top.is(Error("read failed")));  // a different error with the same text
  EXPECT_EQ(top.cause(), mid);
  EXPECT_EQ(top.cause().cause(), root);
  const std::string s = top.to_string();
  EXPECT_NE(s.find("context canceled at tests/unit/error_test.cpp:"), std::string::npos) << s;
  EXPECT_NE(s.find("(client disconnected at "), std::string::npos) << s;
  EXPECT_NE(s.find("(read failed: "), std::string::npos) << s;
}

TEST(ErrorTest, CopiesShareAndCompareEqual) {
  const Error a("shared message");
  Error b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(a, b);
  Error c = std::move(b);
  EXPECT_EQ(a, c);
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move): moved-from is empty
  b = c;
  EXPECT_EQ(b, a);
}

TEST(ErrorTest, EqualityIsByValueNotByText) {
  auto make = [] { return Error("same"); };  // one site: equal values
  EXPECT_EQ(make(), make());
  const Error here("same");
  EXPECT_NE(here, make());  // raised at another site
  EXPECT_TRUE(Error(errc::canceled) == errc::canceled);
}

// An operation a context ended, wrapping the context's error: what ended, then why.
TEST(ErrorTest, AnOperationEndedByItsContextSaysWhatEndedThenWhy) {
  const Error why(cogo::make_error_code(errc::deadline_exceeded), "deadline set at handler.cpp:40, 2s",
                  cogo::source_location());
  const Error op(cogo::make_error_code(errc::deadline_exceeded), "read from 127.0.0.1:5123 canceled",
                 why, cogo::source_location());
  EXPECT_EQ(op.to_string(),
            "read from 127.0.0.1:5123 canceled: context deadline exceeded (deadline set at "
            "handler.cpp:40, 2s)");
  EXPECT_TRUE(op.is(errc::deadline_exceeded));
  EXPECT_TRUE(op.is_timeout());
  // A cause of another kind keeps the usual form.
  const Error other(cogo::make_error_code(errc::canceled), "shutting down", Error("because"),
                    cogo::source_location());
  EXPECT_NE(other.to_string().find("context canceled"), std::string::npos) << other;
}

TEST(ErrorTest, StreamsAsOneLine) {
  std::ostringstream os;
  os << Error("line", cogo::source_location());
  EXPECT_EQ(os.str(), "line");
}

}  // namespace
