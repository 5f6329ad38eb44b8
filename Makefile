# cogo: the two commands of the README, the sanitizer and clang suites, the benchmarks.
# Every target installs missing Debian packages first (scripts/install-deps).

.PHONY: deps build test demo tsan asan clang bench compare format tidy clean

deps:
	@scripts/install-deps

build: deps
	cmake --preset release
	cmake --build --preset release

# The whole suite except benchmarks: unit, conformance, stress, compile-fail, install.
test: build
	ctest --preset release

# Builds only the examples and the libraries they use, then runs every example in the
# order examples/CMakeLists.txt lists them.
demo: deps
	cmake --preset release
	cmake --build --preset release --target cogo_examples
	@for ex in $$(cat build/release/examples/examples.txt); do \
	  build/release/examples/$$ex || exit 1; echo; \
	done

tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan
	ctest --preset tsan

asan: deps
	cmake --preset asan
	cmake --build --preset asan
	ctest --preset asan

# The suite built with clang-16, with -Wthread-safety checking the lock annotations.
clang: deps
	cmake --preset clang
	cmake --build --preset clang
	ctest --preset clang

# The anchor workloads as JSON lines (shared/anchors/WORKLOADS.md).
bench: build
	build/release/bench/cogo_anchors

# Go/cogo ratios measured in one run, with the Go counterparts in bench/go.
compare: build
	scripts/compare

format:
	clang-format -i $$(git ls-files '*.hpp' '*.cpp')

# clang-tidy over the library's sources, with the release build's compile commands.
tidy: build
	clang-tidy -p build/release --quiet $$(git ls-files 'src/*.cpp')

clean:
	rm -rf build
