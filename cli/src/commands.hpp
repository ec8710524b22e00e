#pragma once

// The commands of the `signoff` tool: their syntax, what they run with and
// where each is implemented.

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "arguments.hpp"
#include "backend.hpp"
#include "reports.hpp"
#include "signoff/model/result.hpp"

namespace signoff::cli {

/// What every command runs with.
struct context {
  /// The directory or server the command works on.
  backend& target;
  /// Who decides when `--by` is not given (a server records its token's
  /// identity instead).
  std::string default_actor;
};

/// Runs a parsed command. Errors: those of the backend, and USAGE_ERROR for
/// a malformed option value; on any error nothing was changed.
using handler = model::result<report> (*)(const context&, const invocation&);

/// A command: what it accepts and what runs it. Adding one is an entry in
/// the table of commands.cpp and its handler.
struct command {
  command_syntax syntax;
  handler run;
};

/// Every command, in the order the usage text lists them.
[[nodiscard]] std::span<const command> all_commands();

/// The command named `name`; null if there is none.
[[nodiscard]] const command* find_command(std::string_view name);

/// The backend `inv` names: its `--db` directory (as of `now`) or its
/// server. Errors: STORAGE_ERROR for a directory without a database.
[[nodiscard]] model::result<std::unique_ptr<backend>>
open_backend(const invocation& inv, model::time_point now);

// The handlers, by file.

// queries.cpp
model::result<report> list_pending(const context& ctx, const invocation& inv);
model::result<report> show_approval(const context& ctx, const invocation& inv);
model::result<report> list_runs(const context& ctx, const invocation& inv);
model::result<report> show_run(const context& ctx, const invocation& inv);
model::result<report> cleanup(const context& ctx, const invocation& inv);

// decisions.cpp
model::result<report> approve(const context& ctx, const invocation& inv);
model::result<report> reject(const context& ctx, const invocation& inv);
model::result<report> edit(const context& ctx, const invocation& inv);
model::result<report> cancel(const context& ctx, const invocation& inv);
model::result<report> bulk(const context& ctx, const invocation& inv);
model::result<report> comment(const context& ctx, const invocation& inv);
model::result<report> reassign(const context& ctx, const invocation& inv);
model::result<report> delegate(const context& ctx, const invocation& inv);

} // namespace signoff::cli
