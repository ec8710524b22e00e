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

} // namespace signoff::cli
