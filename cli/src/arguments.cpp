#include "arguments.hpp"

#include <algorithm>
#include <utility>

#include "cli_error.hpp"
#include "http_client.hpp"
#include "values.hpp"

namespace signoff::cli {

namespace {

constexpr std::string_view end_of_options = "--";

/// The command line split into options and positional arguments, before
/// any command's syntax is applied.
struct tokens {
  std::vector<std::string> positionals;
  std::vector<std::pair<std::string, std::string>> options;
  bool json = false;
  bool help = false;
};

bool is_option(std::string_view arg) {
  return arg.size() > 1 && arg.front() == '-';
}

/// Splits `--name=value`, or takes the value from the next argument.
model::result<std::pair<std::string, std::string>>
read_option(const std::vector<std::string>& args, std::size_t& i) {
  const std::string_view arg = args[i];
  if (!arg.starts_with("--"))
    return make_usage_error("unknown option '" + std::string{arg} + "'");
  const auto body = arg.substr(2);
  if (auto eq = body.find('='); eq != std::string_view::npos)
    return std::pair{std::string{body.substr(0, eq)},
                     std::string{body.substr(eq + 1)}};
  if (i + 1 >= args.size() || args[i + 1].starts_with("--"))
    return make_usage_error("option '--" + std::string{body}
                            + "' needs a value");
  return std::pair{std::string{body}, args[++i]};
}

model::result<tokens> tokenize(const std::vector<std::string>& args) {
  tokens out;
  bool options_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (options_ended || !is_option(arg)) {
      out.positionals.push_back(arg);
    } else if (arg == end_of_options) {
      options_ended = true;
    } else if (arg == "--json") {
      out.json = true;
    } else if (arg == "--help" || arg == "-h") {
      out.help = true;
    } else {
      auto option = read_option(args, i);
      if (option.is_err())
        return option.error();
      out.options.push_back(std::move(option.value()));
    }
  }
  return out;
}

const flag_syntax* find_flag(const command_syntax& syntax,
                             std::string_view name) {
  auto it = std::find_if(syntax.flags.begin(), syntax.flags.end(),
                         [&](const auto& f) { return f.name == name; });
  return it == syntax.flags.end() ? nullptr : &*it;
}

/// Sets the command and its subject from the positional arguments.
model::result<const command_syntax*>
take_positionals(const std::vector<std::string>& positionals,
                 const syntax_lookup& lookup, invocation& out) {
  if (positionals.empty())
    return make_usage_error("no command given");
  out.command = positionals.front();
  const auto* syntax = lookup(out.command);
  if (syntax == nullptr)
    return make_usage_error("unknown command '" + out.command + "'");
  const std::size_t expected = syntax->subject.empty() ? 1 : 2;
  if (positionals.size() < expected)
    return make_usage_error("'" + out.command + "' needs a "
                            + std::string{syntax->subject});
  if (positionals.size() > expected)
    return make_usage_error("unexpected argument '" + positionals[expected]
                            + "' for '" + out.command + "'");
  if (expected == 2)
    out.subject = positionals[1];
  return syntax;
}

/// The field of a target option every command takes (`--db`, `--server`,
/// `--token`, `--timeout`); null for any other name.
std::string* target_option(invocation& out, std::string_view name) {
  if (name == "db")
    return &out.db;
  if (name == "server")
    return &out.server;
  if (name == "token")
    return &out.token;
  if (name == "timeout")
    return &out.timeout;
  return nullptr;
}

/// Sets the target options and the command's options; refuses any other.
model::result<void>
take_options(const std::vector<std::pair<std::string, std::string>>& options,
             const command_syntax& syntax, invocation& out) {
  for (const auto& [name, value] : options) {
    const auto* f = find_flag(syntax, name);
    auto* target = target_option(out, name);
    if (target == nullptr && f == nullptr)
      return make_usage_error("unknown option '--" + name + "' for '"
                              + out.command + "'");
    if ((target != nullptr && !target->empty()) || out.flags.contains(name))
      return make_usage_error("option '--" + name + "' is given twice");
    if (f != nullptr && f->check != nullptr)
      if (auto checked = f->check(value); checked.is_err())
        return checked;
    if (target != nullptr)
      *target = value;
    else
      out.flags.emplace(name, value);
  }
  for (const auto& f : syntax.flags)
    if (f.required && !out.flags.contains(f.name))
      return make_usage_error("'" + out.command + "' needs --"
                              + std::string{f.name} + " "
                              + std::string{f.metavar});
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
                                          const syntax_lookup& lookup,
                                          const target_defaults& defaults) {
  auto split = tokenize(args);
  if (split.is_err())
    return split.error();
  invocation out;
  out.json = split->json;
  out.help = split->help;
  if (out.help)
    return out;
  auto syntax = take_positionals(split->positionals, lookup, out);
  if (syntax.is_err())
    return syntax.error();
  if (auto taken = take_options(split->options, *syntax.value(), out);
      taken.is_err())
    return taken.error();
  if (auto chosen = choose_target(defaults, out); chosen.is_err())
    return chosen.error();
  return out;
}

bool wants_json(const std::vector<std::string>& args) {
  auto end = std::find(args.begin(), args.end(), end_of_options);
  return std::find(args.begin(), end, "--json") != end;
}

std::string synopsis(const command_syntax& syntax) {
  std::string out{syntax.name};
  if (!syntax.subject.empty())
    out += " " + std::string{syntax.subject};
  for (const auto& f : syntax.flags) {
    auto option = "--" + std::string{f.name} + " " + std::string{f.metavar};
    out += f.required ? " " + option : " [" + option + "]";
  }
  return out;
}

} // namespace signoff::cli
