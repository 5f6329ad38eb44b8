#include "bench_support.hpp"

#include <malloc.h>

namespace cogo::bench {

std::int64_t heap_in_use() {
  malloc_trim(0);
  const struct mallinfo2 mi = mallinfo2();
  // Small chunks in use plus large ones served by mmap.
  return static_cast<std::int64_t>(mi.uordblks + mi.hblkhd);
}

}  // namespace cogo::bench
