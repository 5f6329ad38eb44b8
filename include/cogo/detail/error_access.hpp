// Internal construction of Errors that must not allocate. Internal.
#pragma once

#include <string>

#include "cogo/error.hpp"

namespace cogo::detail {

struct ErrorAccess {
  // A message rep that is never freed; create each one once (a function-local static).
  static const ErrorRep* immortal_rep(const char* message);
  // An error sharing `rep` (message and cause); no allocation.
  static Error with_rep(std::error_code code, source_location where, const ErrorRep* rep) noexcept;
  // An error that takes over `message`'s buffer: one allocation, for the rep.
  static Error with_message(std::error_code code, std::string&& message, Error cause,
                            source_location where);
};

}  // namespace cogo::detail
