// cogo_anchors [NAME...]: runs the anchor workloads (all, or those named) and prints one
// JSON line per workload, {"name":..,"ns_per_op":..[,"bytes_per_op":..]}, the format
// shared/anchors/compare reads. Google Benchmark flags (--benchmark_min_time=...) pass
// through.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

class AnchorReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      std::string name = r.benchmark_name();
      name = name.substr(0, name.find('/'));
      double ns = r.GetAdjustedRealTime();  // per iteration, in nanoseconds
      if (auto it = r.counters.find("ns_per_op"); it != r.counters.end()) ns = it->second.value;
      std::printf("{\"name\":\"%s\",\"ns_per_op\":%.3f", name.c_str(), ns);
      if (auto it = r.counters.find("bytes_per_op"); it != r.counters.end()) {
        std::printf(",\"bytes_per_op\":%.3f", it->second.value);
      }
      std::printf("}\n");
      std::fflush(stdout);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = {argv[0]};
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      args.push_back(argv[i]);
    } else {
      filter += (filter.empty() ? "^(" : "|") + a;
    }
  }
  std::string filter_flag;
  if (!filter.empty()) {
    filter_flag = "--benchmark_filter=" + filter + ")(/.*)?$";
    args.push_back(filter_flag.data());
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  AnchorReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
