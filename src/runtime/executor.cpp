// Reporting for callbacks that run on the scheduler.
#include <cstdio>
#include <exception>
#include <string>

#include "cogo/detail/executor.hpp"
#include "cogo/detail/format.hpp"

namespace cogo::detail {
void call_reporting(void (*fn)(void*), void* arg, const char* what,
                    const source_location& site) noexcept {
  try {
    fn(arg);
    return;
  } catch (const std::exception& e) {
    std::string where;
    append_site(where, site);
    std::fprintf(stderr, "cogo: %s registered at %s threw: %s\n", what, where.c_str(), e.what());
  } catch (...) {
    std::string where;
    append_site(where, site);
    std::fprintf(stderr, "cogo: %s registered at %s threw a non-exception\n", what, where.c_str());
  }
}


}  // namespace cogo::detail
