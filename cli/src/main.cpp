// signoff: reads and decides the approvals and runs in a signoff LMDB
// directory or on a running signoff server. `signoff --help` lists the
// commands; the exit code says how a command ended (cli_error.hpp).

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "arguments.hpp"
#include "cli_error.hpp"
#include "commands.hpp"
#include "output.hpp"

namespace {

namespace cli = signoff::cli;
namespace model = signoff::model;

/// The environment variable `name`; empty if unset.
std::string environment(const char* name) {
  const char* value = std::getenv(name); // NOLINT(concurrency-mt-unsafe)
  return value != nullptr ? value : "";
}

/// Who decides without `--by`: the login name, else "cli".
std::string default_actor() {
  auto user = environment("USER");
  return user.empty() ? "cli" : user;
}

int fail(const model::error& e, bool json) {
  cli::print_error(std::cerr, e, json);
  return cli::exit_code_for(e);
}

int run(const cli::invocation& inv) {
  auto target = cli::open_backend(inv, model::system_now());
  if (target.is_err())
    return fail(target.error(), inv.json);
  const cli::context ctx{*target.value(), default_actor()};
  auto done = cli::find_command(inv.command)->run(ctx, inv);
  if (done.is_err())
    return fail(done.error(), inv.json);
  cli::print_report(std::cout, done.value(), inv.json);
  // A bulk decision reports every key; one not decided fails the command.
  const auto* bulk = std::get_if<cli::bulk_report>(&done.value());
  return bulk != nullptr && bulk->failed() > 0 ? cli::exit_domain_error
                                               : cli::exit_ok;
}

} // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const bool json = cli::wants_json(args);
  try {
    auto inv = cli::parse_arguments(
      args, {environment("SIGNOFF_SERVER"), environment("SIGNOFF_TOKEN")});
    if (inv.is_err())
      return fail(inv.error(), json);
    if (!inv->help.empty()) {
      std::cout << inv->help;
      return cli::exit_ok;
    }
    return run(inv.value());
  } catch (const std::exception& e) {
    return fail(
      model::make_error(model::error_type::unexpected_error,
                        std::string{"unexpected failure: "} + e.what()),
      json);
  }
}
