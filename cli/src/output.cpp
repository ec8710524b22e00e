#include "output.hpp"

#include <ostream>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include "cli_error.hpp"

namespace signoff::cli {

void print_report(std::ostream& out, const report& r, bool json) {
  if (json)
    out << boost::json::serialize(to_json(r)) << '\n';
  else
    print_text(out, r);
}

void print_error(std::ostream& out, const model::error& e, bool json) {
  if (json) {
    out << boost::json::serialize(
      boost::json::value{{"error", boost::json::value_from(e)}})
        << '\n';
    return;
  }
  out << "signoff: " << e.message << '\n';
  if (e.is(usage_error))
    out << "Run 'signoff --help' for usage.\n";
}

void print_usage(std::ostream& out, std::span<const command> commands) {
  out << "usage: signoff (--db DIR | --server URL [--token T]) [--json] "
         "COMMAND [ARGUMENTS]\n\n"
         "Reads and decides the approvals and runs in a signoff LMDB "
         "directory\nor on a running signoff server.\n\ncommands:\n";
  for (const auto& c : commands)
    out << "  " << synopsis(c.syntax) << "\n      " << c.syntax.summary << '\n';
  out
    << "\noptions:\n"
       "  --db DIR      the signoff LMDB directory (never created)\n"
       "  --server URL  a signoff server, http://HOST:PORT (default: "
       "$SIGNOFF_SERVER)\n"
       "  --token T     its bearer token (default: $SIGNOFF_TOKEN; prefer the\n"
       "                variable: other users can see a command line)\n"
       "  --json        print results and errors as JSON\n"
       "  --help, -h    print this text\n\n"
       "DURATION is a whole number and a unit: w, d, h, m, s or ms (30d, "
       "12h, 90m).\n"
       "--by defaults to $USER; a server records its token's identity "
       "instead.\n"
       "A decision is durable once signoff exits. On a directory signoff "
       "resumes\nno run (a server on it does); a server resumes the runs "
       "itself.\n\n"
       "exit codes: 0 ok, 1 refused (conflict, not found, invalid, not "
       "allowed),\n"
       "            2 usage error, 3 storage error or server unreachable\n";
}

} // namespace signoff::cli
