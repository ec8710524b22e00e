#pragma once

// The commands of the `signoff` tool: their syntax, what they run with and
// where each is implemented.

#include <span>
#include <string>
#include <string_view>

#include "arguments.hpp"
#include "reports.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"
#include "signoff/persistence/lmdb_store.hpp"

namespace signoff::cli {

/// What every command runs with.
struct context {
  persistence::lmdb_stores stores;
  /// The one instant the command works at.
  model::time_point now;
  /// Who decides when `--by` is not given.
  std::string default_actor;
};

/// Runs a parsed command. Errors: those of the stores, and USAGE_ERROR for
/// a malformed option value; on any error nothing was changed.
using handler = model::result<report> (*)(const context&, const invocation&);

struct command {
  command_syntax syntax;
  handler run;
};

/// Every command, in the order the usage text lists them.
[[nodiscard]] std::span<const command> all_commands();

/// The command named `name`; null if there is none.
[[nodiscard]] const command* find_command(std::string_view name);

/// Opens the signoff database in `dir`. A directory without one is refused
/// rather than created, so a mistyped path changes nothing. Errors:
/// STORAGE_ERROR.
[[nodiscard]] model::result<persistence::lmdb_stores>
open_database(const std::string& dir);

// The handlers, by file.

// queries.cpp
model::result<report> list_pending(const context& ctx, const invocation& inv);
model::result<report> show_approval(const context& ctx, const invocation& inv);
model::result<report> list_runs(const context& ctx, const invocation& inv);
model::result<report> show_run(const context& ctx, const invocation& inv);

// decisions.cpp
model::result<report> approve(const context& ctx, const invocation& inv);
model::result<report> reject(const context& ctx, const invocation& inv);
model::result<report> edit(const context& ctx, const invocation& inv);
model::result<report> cancel(const context& ctx, const invocation& inv);

// cleanup.cpp
model::result<report> cleanup(const context& ctx, const invocation& inv);

} // namespace signoff::cli
