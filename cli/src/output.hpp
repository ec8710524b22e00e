#pragma once

// How reports and errors are printed: as text for people,
// or as one JSON value per line with `--json`.

#include <iosfwd>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "reports.hpp"
#include "signoff/model/error.hpp"

namespace signoff::cli {

/// Prints `r`: its JSON form with `json`, text otherwise.
void print_report(std::ostream& out, const report& r, bool json);

/// Prints `e`: `{"error": {"type", "message", "details"}}` with `json`,
/// "signoff: <message>" otherwise.
void print_error(std::ostream& out, const model::error& e, bool json);

/// The JSON form of `r` (output_json.cpp). Approvals, audit entries and
/// runs appear in the library's own JSON forms; instants are Unix
/// milliseconds.
[[nodiscard]] boost::json::value to_json(const report& r);

/// Prints `r` for people (output_text.cpp).
void print_text(std::ostream& out, const report& r);

/// `text` safe to print on a terminal: control characters (C0, DEL, C1),
/// bidirectional overrides and bytes that are no UTF-8 become `\xNN` or
/// `\u{NNNN}`, so that what someone stored (a reason, a value) can neither
/// add lines nor send the terminal commands.
[[nodiscard]] std::string terminal_text(std::string_view text);

} // namespace signoff::cli
