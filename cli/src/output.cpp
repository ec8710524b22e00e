#include "output.hpp"

#include <ostream>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include "cli_error.hpp"
#include "signoff/model/json_text.hpp"

namespace signoff::cli {

void print_report(std::ostream& out, const report& r, bool json) {
  if (json)
    out << model::write_json(to_json(r)) << '\n';
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
  out << "signoff: " << terminal_text(e.message) << '\n';
  if (e.is(usage_error))
    out << "Run 'signoff --help' for usage.\n";
}

void print_usage(std::ostream& out, std::span<const command> commands) {
  out << R"(usage: signoff (--db DIR | --server URL [--token T] [--timeout D])
               [--json] COMMAND [ARGUMENTS]

Reads and decides the approvals and runs in a signoff LMDB directory or on
a running signoff server.

commands:
)";
  for (const auto& c : commands)
    out << "  " << synopsis(c.syntax) << "\n      " << c.syntax.summary << '\n';
  out << R"(
options:
  --db DIR       the signoff LMDB directory (never created)
  --server URL   a signoff server, http://HOST:PORT (default: $SIGNOFF_SERVER)
  --token T      its bearer token (default: $SIGNOFF_TOKEN; prefer the
                 variable: other users can read a command line)
  --timeout D    how long to wait for the server to connect and for each
                 answer (default: 10s and 60s)
  --json         print results and errors as JSON
  --help, -h     print this text

D and DURATION are a whole number and a unit: w, d, h, m, s or ms (30d,
12h, 90m). --by defaults to $USER; a server records its token's identity
instead. A decision is durable once signoff exits. On a directory signoff
resumes no run (a server running on it does); a server resumes them itself.

exit codes: 0 ok, 1 refused (conflict, not found, invalid, not allowed),
            2 usage error, 3 storage error or server unreachable
)";
}

} // namespace signoff::cli
