#pragma once

// The shape of the command line: `signoff (--db DIR | --server URL [--token
// T] [--timeout D]) [--json] COMMAND [SUBJECT] [--flag VALUE]...`, checked
// against each command's syntax. What the values mean is for the commands
// (see values.hpp).

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
  /// The value's placeholder in the usage text.
  std::string_view metavar;
  bool required = false;
  /// Checked while parsing, so a malformed value is refused before the
  /// database is opened; null accepts any value.
  value_check check = nullptr;
};

/// What a command accepts.
struct command_syntax {
  std::string_view name;
  /// Placeholder of the one positional argument ("KEY", "RUN"); empty when
  /// the command takes none.
  std::string_view subject{};
  std::vector<flag_syntax> flags{};
  /// One line for the usage text.
  std::string_view summary{};
};

/// The command's syntax by name; null for an unknown command.
using syntax_lookup
  = std::function<const command_syntax*(std::string_view name)>;

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
  /// `--help` or `-h`: print the usage and do nothing else.
  bool help = false;
  std::string command;
  /// The positional argument, when the command takes one.
  std::string subject;
  /// The command's options by name (without the dashes).
  std::map<std::string, std::string, std::less<>> flags;

  /// The value of option `name`, if given.
  [[nodiscard]] std::optional<std::string> flag(std::string_view name) const;
};

/// Parses `args` (without the program name). Options take their value as
/// the next argument or after `=`; `--` ends the options. Without `--db` or
/// `--server` the command works on `defaults.server`; a server without
/// `--token` gets `defaults.token`. Errors: USAGE_ERROR for an unknown
/// command or option, a missing or extra argument, an option given twice,
/// without its value or with a value its check refuses, neither or both of
/// `--db` and `--server`, `--token` or `--timeout` with `--db`, a malformed
/// server URL or timeout.
[[nodiscard]] model::result<invocation>
parse_arguments(const std::vector<std::string>& args,
                const syntax_lookup& lookup,
                const target_defaults& defaults = {});

/// True if `args` asks for machine output, so even a command line that
/// does not parse gets its error as JSON.
[[nodiscard]] bool wants_json(const std::vector<std::string>& args);

/// One usage line: "reject KEY --reason R [--by WHO]".
[[nodiscard]] std::string synopsis(const command_syntax& syntax);

} // namespace signoff::cli
