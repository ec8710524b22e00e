#include "arguments.hpp"

#include <algorithm>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli_error.hpp"
#include "commands.hpp"
#include "http_client.hpp"
#include "values.hpp"

namespace signoff::cli {

namespace {

constexpr std::string_view end_of_options = "--";

constexpr std::string_view tool_summary
  = R"(Reads and decides the approvals and runs in a signoff LMDB directory or on
a running signoff server.)";

constexpr std::string_view tool_footer
  = R"(The options above go before or after the command. D and DURATION are a
whole number and a unit: w, d, h, m, s or ms (30d, 12h, 90m). --by
defaults to $USER; a server records its token's identity instead. A
decision is durable once signoff exits. On a directory signoff resumes no
run (a server running on it does); a server resumes them itself.
'signoff COMMAND --help' describes a command.

exit codes: 0 ok, 1 refused (conflict, not found, invalid, not allowed),
            2 usage error, 3 storage error or server unreachable)";

constexpr std::string_view command_footer
  = R"(It also takes the options of 'signoff --help' (--db, --server, --token,
--timeout, --json), before or after the command.)";

/// A value a command's check refused, carried out of CLI11's parser
/// whole: CLI11 would prefix its message with the option's name, which
/// ours already says.
struct refused_value {
  model::error error;
};

/// Lists each command in the tool's help as its synopsis ("reject KEY
/// --reason R [--by WHO]") over its summary, where CLI11 gives only names.
class help_formatter : public CLI::Formatter {
public:
  std::string make_subcommand(const CLI::App* command) const override {
    std::string line = "  " + command->get_name();
    for (const auto* opt : command->get_options()) {
      if (opt == command->get_help_ptr())
        continue;
      if (opt->get_positional()) {
        line += " " + opt->get_name();
        continue;
      }
      const auto usage = opt->get_name() + " " + opt->get_type_name();
      line += opt->get_required() ? " " + usage : " [" + usage + "]";
    }
    return line + "\n      " + command->get_description() + "\n";
  }
};

/// `args` in the order CLI11 reads them (last first), with `--name=` split
/// into `--name` and an empty value: CLI11 2.1 would take the next
/// argument as its value instead.
std::vector<std::string> for_cli11(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  bool options_ended = false;
  for (const auto& arg : args) {
    options_ended = options_ended || arg == end_of_options;
    if (!options_ended && arg.size() > 3 && arg.starts_with("--")
        && arg.find('=') == arg.size() - 1) {
      out.push_back(arg.substr(0, arg.size() - 1));
      out.emplace_back();
    } else {
      out.push_back(arg);
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

/// The options every command takes; they fill `inv`.
void add_target_options(CLI::App& app, invocation& inv) {
  app.add_option("--db", inv.db, "the signoff LMDB directory (never created)")
    ->type_name("DIR");
  app
    .add_option("--server", inv.server,
                "a signoff server, http://HOST:PORT\n"
                "(default: $SIGNOFF_SERVER)")
    ->type_name("URL");
  app
    .add_option("--token", inv.token,
                "its bearer token (default: $SIGNOFF_TOKEN;\n"
                "prefer the variable: other users can read\n"
                "a command line)")
    ->type_name("T");
  app
    .add_option("--timeout", inv.timeout,
                "how long to wait for the server to connect\n"
                "and for each answer (default: 10s and 60s)")
    ->type_name("D");
  app.add_flag("--json", inv.json, "print results and errors as JSON")
    ->disable_flag_override();
}

/// Declares `syntax` as a subcommand of `app`; its subject goes to `inv`
/// (every command's does: one command is parsed).
void add_command(CLI::App& app, const command_syntax& syntax, invocation& inv) {
  auto* sub
    = app.add_subcommand(std::string{syntax.name}, std::string{syntax.summary});
  sub->group("Commands");
  sub->footer(std::string{command_footer});
  if (!syntax.subject.name.empty())
    sub
      ->add_option(std::string{syntax.subject.name}, inv.subject,
                   std::string{syntax.subject.description})
      ->required()
      ->type_name("");
  for (const auto& f : syntax.flags) {
    auto* opt = sub->add_option("--" + std::string{f.name})
                  ->description(std::string{f.description})
                  ->type_name(std::string{f.metavar})
                  ->required(f.required);
    if (f.check != nullptr)
      opt->check([check = f.check](const std::string& value) {
        if (auto checked = check(value); checked.is_err())
          throw refused_value{checked.error()};
        return std::string{};
      });
  }
}

/// Takes the parsed command's name and options into `inv`.
void take_command(const CLI::App& command, invocation& inv) {
  inv.command = command.get_name();
  for (const auto* opt : command.get_options())
    if (!opt->get_positional() && opt != command.get_help_ptr()
        && opt->count() > 0)
      inv.flags.emplace(opt->get_name().substr(2), opt->as<std::string>());
}

/// What to say about the first argument nothing took, more plainly than
/// CLI11's list of them all.
model::error unexpected_argument(const CLI::App& app) {
  const auto extras = app.remaining(true);
  const std::string first = extras.empty() ? "" : extras.front();
  const auto commands = app.get_subcommands();
  const auto* command = commands.empty() ? nullptr : commands.front();
  if (!first.starts_with('-'))
    return make_usage_error(command == nullptr
                              ? "unknown command '" + first + "'"
                              : "unexpected argument '" + first + "' for '"
                                  + command->get_name() + "'");
  const auto name = first.substr(0, first.find('='));
  if (command == nullptr)
    return make_usage_error("unknown option '" + name + "'");
  if (command->get_option_no_throw(name) != nullptr)
    return make_usage_error("option '" + name + "' of '" + command->get_name()
                            + "' goes after the command");
  return make_usage_error("unknown option '" + name + "' for '"
                          + command->get_name() + "'");
}

/// Parses `args` into `inv` with CLI11.
model::result<void> parse_with_cli11(const std::vector<std::string>& args,
                                     invocation& inv) {
  CLI::App app{std::string{tool_summary}, "signoff"};
  auto formatter = std::make_shared<help_formatter>();
  formatter->label("SUBCOMMAND", "COMMAND");
  formatter->label("Positionals", "Arguments");
  app.formatter(formatter);
  app.footer(std::string{tool_footer});
  app.set_help_flag("-h,--help", "print this text");
  // Set before the commands are added, which inherit them: options a
  // command does not know (--db after it) go to the tool.
  app.fallthrough();
  app.require_subcommand(0, 1);
  add_target_options(app, inv);
  for (const auto& c : all_commands())
    add_command(app, c.syntax, inv);
  try {
    app.parse(for_cli11(args));
  } catch (const CLI::CallForHelp&) {
    inv.help = app.help();
    return model::ok();
  } catch (const CLI::ExtrasError&) {
    return unexpected_argument(app);
  } catch (const CLI::ParseError& e) {
    return make_usage_error(e.what());
  } catch (const refused_value& refused) {
    return refused.error;
  }
  const auto commands = app.get_subcommands();
  if (commands.empty())
    return make_usage_error("no command given");
  take_command(*commands.front(), inv);
  return model::ok();
}

/// Settles the directory or server the command works on.
model::result<void> choose_target(const target_defaults& defaults,
                                  invocation& out) {
  if (!out.db.empty() && !out.server.empty())
    return make_usage_error("--db and --server cannot be used together");
  if (!out.db.empty()) {
    if (!out.token.empty() || !out.timeout.empty())
      return make_usage_error(
        "--token and --timeout go with --server, not with --db");
    return model::ok();
  }
  if (out.server.empty())
    out.server = defaults.server;
  if (out.server.empty())
    return make_usage_error(
      "--db DIR or --server URL is required (or set SIGNOFF_SERVER)");
  if (out.token.empty())
    out.token = defaults.token;
  if (auto url = parse_server_url(out.server); url.is_err())
    return url.error();
  if (auto token = check_token(out.token); token.is_err())
    return token;
  if (!out.timeout.empty())
    return check<parse_timeout>(out.timeout);
  return model::ok();
}

} // namespace

std::optional<std::string> invocation::flag(std::string_view name) const {
  auto it = flags.find(name);
  if (it == flags.end())
    return std::nullopt;
  return it->second;
}

model::result<invocation> parse_arguments(const std::vector<std::string>& args,
                                          const target_defaults& defaults) {
  invocation out;
  if (auto parsed = parse_with_cli11(args, out); parsed.is_err())
    return parsed.error();
  if (!out.help.empty())
    return out;
  if (auto chosen = choose_target(defaults, out); chosen.is_err())
    return chosen.error();
  return out;
}

bool wants_json(const std::vector<std::string>& args) {
  auto end = std::find(args.begin(), args.end(), end_of_options);
  return std::find(args.begin(), end, "--json") != end;
}

} // namespace signoff::cli
