#pragma once

// The shape of the command line: `signoff [--db DIR | --server URL [--token
// T] [--timeout D]] [--json] COMMAND [SUBJECT] [--flag VALUE]...`, parsed
// with CLI11 against the syntax of every command (commands.cpp). What the
// values mean is for the commands (see values.hpp).

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signoff/model/result.hpp"

namespace signoff::cli {

/// Checks an option's value; a USAGE_ERROR if it is malformed.
using value_check = model::result<void> (*)(std::string_view value);

/// One `--name VALUE` option a command takes.
struct flag_syntax {
  std::string_view name;
  /// The value's placeholder in the help text.
  std::string_view metavar;
  /// What the option does, for the command's help.
  std::string_view description;
  bool required = false;
  /// Checked while parsing, so a malformed value is refused before the
  /// database is opened; null accepts any value.
  value_check check = nullptr;
};

/// The one positional argument a command takes.
struct subject_syntax {
  /// Its placeholder ("KEY", "RUN"); empty when the command takes none.
  std::string_view name{};
  std::string_view description{};
};

/// What a command accepts.
struct command_syntax {
  std::string_view name;
  /// One line for the help text.
  std::string_view summary;
  subject_syntax subject{};
  std::vector<flag_syntax> flags{};
};

/// Where a command works when its command line does not say: the
/// SIGNOFF_SERVER and SIGNOFF_TOKEN environment variables (empty if unset).
struct target_defaults {
  std::string server{};
  std::string token{};
};

/// A parsed and checked command line.
struct invocation {
  /// `--db DIR`: the LMDB directory; empty when working on a server.
  std::string db;
  /// `--server URL` (or SIGNOFF_SERVER): the server, a valid http URL;
  /// empty when working on a directory.
  std::string server;
  /// `--token T` (or SIGNOFF_TOKEN): the server's bearer token; may be
  /// empty.
  std::string token;
  /// `--timeout DURATION`: how long to wait for the server; empty for the
  /// client's defaults.
  std::string timeout;
  /// `--json`: machine output.
  bool json = false;
  /// What `--help` (or `-h`) asked for: the tool's help, or the command's
  /// when it follows one. When set, print it and do nothing else.
  std::string help;
  std::string command;
  /// The positional argument, when the command takes one.
  std::string subject;
  /// The command's options by name (without the dashes).
  std::map<std::string, std::string, std::less<>> flags;

  /// The value of option `name`, if given.
  [[nodiscard]] std::optional<std::string> flag(std::string_view name) const;
};

/// Parses `args` (without the program name) against every command of
/// `all_commands()`. Options take their value as the next argument or after
/// `=` (`--reason=` gives an empty one); `--` ends the options. The target
/// options and `--json` go before or after the command. Without `--db` or
/// `--server` the command works on `defaults.server`; a server without
/// `--token` gets `defaults.token`. Errors: USAGE_ERROR for an unknown
/// command or option, a missing or extra argument, an option given twice,
/// without its value or with a value its check refuses, neither or both of
/// `--db` and `--server`, `--token` or `--timeout` with `--db`, a malformed
/// server URL or timeout.
[[nodiscard]] model::result<invocation>
parse_arguments(const std::vector<std::string>& args,
                const target_defaults& defaults = {});

/// True if `args` asks for machine output, so even a command line that
/// does not parse gets its error as JSON.
[[nodiscard]] bool wants_json(const std::vector<std::string>& args);

} // namespace signoff::cli
