#include "cli_error.hpp"

namespace signoff::cli {

model::error make_usage_error(std::string message) {
  return model::make_error(usage_error, std::move(message));
}

exit_code exit_code_for(const model::error& e) noexcept {
  if (e.is(usage_error))
    return exit_usage_error;
  if (e.is(model::error_type::storage_error)
      || e.is(model::error_type::unexpected_error) || e.is(unreachable_error))
    return exit_storage_error;
  return exit_domain_error;
}

} // namespace signoff::cli
