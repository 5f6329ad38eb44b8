// A request is cancelled, but an audit write it started must finish. without_cancel keeps
// the request's values (so the write is attributed to the right request) and drops its
// cancellation; the log names why the request itself ended.
#include <cogo/context.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

const cogo::Key<std::string> request_id{"request_id"};

void write_audit_record(const cogo::Context& ctx, const cogo::Context& request) {
  std::this_thread::sleep_for(10ms);  // the write itself
  std::cout << "audit write for " << *ctx.value(request_id) << " finished; "
            << "its context done? " << (ctx.is_done() ? "yes" : "no") << "\n";
  std::cout << "   the request had ended: " << cogo::cause(request) << "\n";
}

}  // namespace

int main() {
  std::cout << "== without_cancel: work that must finish after its request is cancelled ==\n";
  auto [request, cancel] =
      cogo::with_cancel_cause(cogo::with_value(cogo::background(), request_id, std::string("r-42")));
  std::thread audit(write_audit_record, cogo::without_cancel(request), request);
  cancel(cogo::Error(std::make_error_code(std::errc::connection_aborted), "client disconnected"));
  std::cout << "request cancelled: " << request.err() << "\n";
  audit.join();
}
