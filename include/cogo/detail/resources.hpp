// Resources that adapters own (sockets, operations in flight), made visible to the
// diagnostics without the core or cogo::diag knowing the adapters. Internal.
//
// An adapter registers a ResourceKind once (a static object); cogo::diag's snapshot()
// then reports each kind's count as a gauge, and its leak checks list the live resources
// of each kind (with the site that made each) that were not there at the baseline.
#pragma once

#include <cstdint>
#include <string>

#include "cogo/detail/config.hpp"

namespace cogo::detail {

struct ResourceKind {
  const char* metric;  // the gauge's name after cogo_: "io_sockets_open"
  const char* help;    // its # HELP text
  const char* what;    // in leak reports: "socket"
  std::int64_t (*count)() noexcept;
  // Calls fn for every live resource: an identity, the site that made it, a description.
  // May be null: the kind is counted, not listed.
  void (*for_each)(void (*fn)(const void* id, const source_location& site,
                              const std::string& description, void* arg),
                   void* arg);
};

// Registers `kind` (static storage) for the life of the process; safe from any thread.
void register_resource_kind(const ResourceKind* kind) noexcept;
// Calls fn for every registered kind.
void for_each_resource_kind(void (*fn)(const ResourceKind& kind, void* arg), void* arg);

}  // namespace cogo::detail
