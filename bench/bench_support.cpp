#include "bench_support.hpp"

#include <malloc.h>

#include <algorithm>
#include <vector>

namespace cogo::bench {

std::int64_t heap_in_use() {
  malloc_trim(0);
  const struct mallinfo2 mi = mallinfo2();
  // Small chunks in use plus large ones served by mmap.
  return static_cast<std::int64_t>(mi.uordblks + mi.hblkhd);
}

double median_ns_per_op(const std::function<Run()>& once, double min_ns) {
  std::vector<double> per_op;
  double total = 0;
  while ((total < min_ns || per_op.size() < 3) && per_op.size() < 100) {
    const Run r = once();
    per_op.push_back(r.ns_per_op);
    total += r.wall_ns;
  }
  std::sort(per_op.begin(), per_op.end());
  const std::size_t n = per_op.size();
  return n % 2 == 1 ? per_op[n / 2] : (per_op[n / 2 - 1] + per_op[n / 2]) / 2;
}

}  // namespace cogo::bench
