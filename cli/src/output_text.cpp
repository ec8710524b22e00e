// The text forms of the reports: aligned tables for lists, labelled fields
// for one approval or run. Instants are UTC, to the second.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/locale/utf.hpp>

#include "output.hpp"
#include "signoff/model/json_text.hpp"

namespace signoff::cli {

namespace {

namespace utf = boost::locale::utf;
using row = std::vector<std::string>;
using field = std::pair<std::string, std::string>;

std::string format_time(model::time_point t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss time{floor<seconds>(t - day)};
  std::array<char, 32> text{};
  std::snprintf(
    text.data(), text.size(), "%04d-%02u-%02uT%02d:%02d:%02dZ",
    static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
    static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
    static_cast<int>(time.minutes().count()),
    static_cast<int>(time.seconds().count()));
  return text.data();
}

std::string format_time(const std::optional<model::time_point>& t) {
  return t ? format_time(*t) : "never";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string plural(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

/// Columns padded to their widest cell; the last one is not padded.
void print_table(std::ostream& out, const row& header, std::vector<row> rows) {
  for (auto& r : rows)
    for (auto& cell : r)
      cell = terminal_text(cell);
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows)
      width[c] = std::max(width[c], r[c].size());
  }
  auto print_row = [&](const row& r) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c)
      line += c + 1 < r.size()
                ? r[c] + std::string(width[c] - r[c].size() + 2, ' ')
                : r[c];
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  };
  print_row(header);
  for (const auto& r : rows)
    print_row(r);
}

/// "label  value" lines with the values aligned; empty values are left out.
void print_fields(std::ostream& out, const std::vector<field>& fields) {
  std::size_t width = 0;
  for (const auto& [label, value] : fields)
    width = std::max(width, label.size());
  for (const auto& [label, value] : fields)
    if (!value.empty())
      out << label << std::string(width - label.size() + 2, ' ')
          << terminal_text(value) << '\n';
}

std::string json_text(const boost::json::value& v) {
  return v.is_null() ? std::string{} : model::write_json(v);
}

/// "pending (1 of 2 grants)", "approved by jane at ...", "expired at ...".
std::string describe(const model::approval_status& status,
                     const model::approval_record& record) {
  std::string out{to_string(status.state)};
  if (status.is_pending())
    return out + " (" + std::to_string(record.grants.size()) + " of "
           + plural(record.spec.quorum, "grant") + ")";
  if (status.state != model::approval_state::expired)
    out += " by " + status.decided_by;
  return out + " at " + format_time(status.decided_at);
}

std::string describe(const model::checkpoint& outcome) {
  if (outcome.is_ok())
    return json_text(outcome.value());
  return "error " + outcome.error().type + ": " + outcome.error().message;
}

std::vector<std::string> approvers(const model::approval_record& r) {
  std::vector<std::string> out;
  for (const auto& g : r.grants)
    out.push_back(g.approver);
  return out;
}

void print(std::ostream& out, const pending_report& r) {
  if (r.approvals.empty()) {
    out << "no pending approvals\n";
    return;
  }
  std::vector<row> rows;
  for (const auto& a : r.approvals)
    rows.push_back(
      {a.key,
       std::to_string(a.grants.size()) + "/" + std::to_string(a.spec.quorum),
       format_time(a.created_at), format_time(a.spec.expires_at),
       a.spec.pending_reason});
  print_table(out, {"KEY", "GRANTS", "CREATED", "EXPIRES", "REASON"}, rows);
}

void print(std::ostream& out, const approval_report& r) {
  const auto& a = r.record;
  const auto status = a.status_at(r.now);
  print_fields(out, {{"approval", a.key},
                     {"status", describe(status, a)},
                     {"value", json_text(status.value)},
                     {"reason", status.reason},
                     {"request", a.spec.pending_reason},
                     {"metadata", json_text(a.spec.metadata)},
                     {"quorum", std::to_string(a.spec.quorum)},
                     {"grants", join(approvers(a))},
                     {"created", format_time(a.created_at)},
                     {"expires", format_time(a.spec.expires_at)}});
  out << "\naudit trail\n";
  std::vector<row> rows;
  for (const auto& e : r.trail)
    rows.push_back({std::to_string(e.sequence), format_time(e.at), e.action,
                    e.actor, e.reason.empty() ? json_text(e.value) : e.reason});
  print_table(out, {"#", "AT", "ACTION", "BY", "DETAIL"}, rows);
}

void print(std::ostream& out, const decision_report& r) {
  const auto& record = r.outcome.record;
  const auto& status = record.status;
  const std::string key = "'" + terminal_text(record.key) + "'";
  const auto actor = terminal_text(r.decision.actor);
  const auto decider = terminal_text(status.decided_by);
  const std::string unchanged = r.outcome.applied ? "" : "; nothing changed";
  if (status.is_pending())
    out << "grant by " << actor << " recorded for " << key << " ("
        << record.grants.size() << " of " << record.spec.quorum << ")"
        << unchanged << '\n';
  else if (!r.outcome.applied)
    out << "approval " << key << " is already " << to_string(status.state)
        << " by " << decider << unchanged << '\n';
  else
    out << "approval " << key << " " << to_string(status.state) << " by "
        << decider << '\n';
}

void print(std::ostream& out, const comment_report& r) {
  out << "comment by " << terminal_text(r.entry.actor) << " recorded on '"
      << terminal_text(r.entry.key) << "' (#" << r.entry.sequence << ")\n";
}

/// "alice, bob" or "nobody".
std::string names_text(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names)
    out += (out.empty() ? "" : ", ") + terminal_text(name);
  return out.empty() ? "nobody" : out;
}

void print(std::ostream& out, const assignment_report& r) {
  const auto& spec = r.outcome.record.spec;
  const std::string key = "'" + terminal_text(r.outcome.record.key) + "'";
  if (!r.outcome.applied)
    out << key << " is already assigned so; nothing changed\n";
  else if (r.change.kind == model::assignment_kind::delegate)
    out << key << " delegated by " << terminal_text(r.change.actor) << " to "
        << terminal_text(r.change.to) << '\n';
  else
    out << key << " reassigned by " << terminal_text(r.change.actor) << '\n';
  out << "assignees: " << names_text(spec.assignees)
      << "\ngroups: " << names_text(spec.candidate_groups) << '\n';
}

void print(std::ostream& out, const bulk_report& r) {
  if (r.lines.empty()) {
    out << "nothing pending there: nothing decided\n";
    return;
  }
  std::vector<row> rows;
  for (const auto& line : r.lines)
    rows.push_back({line.key, line.outcome.is_ok()
                                ? std::string{to_string(line.outcome.value())}
                                : line.outcome.error().type + ": "
                                    + line.outcome.error().message});
  print_table(out, {"KEY", "OUTCOME"}, rows);
  out << (r.lines.size() - r.failed()) << " decided by "
      << terminal_text(r.actor) << ", " << r.failed() << " not\n";
}

void print(std::ostream& out, const runs_report& r) {
  if (r.runs.empty()) {
    out << "no runs\n";
    return;
  }
  std::vector<row> rows;
  for (const auto& s : r.runs)
    rows.push_back({s.run_id, s.workflow_name, std::string{to_string(s.status)},
                    format_time(s.updated_at), join(s.pending_approvals)});
  print_table(out, {"RUN", "WORKFLOW", "STATUS", "UPDATED", "WAITING ON"},
              rows);
}

void print(std::ostream& out, const run_report& r) {
  const auto& s = r.run;
  std::vector<std::string> steps;
  for (const auto& [key, saved] : s.checkpoints)
    steps.push_back(key);
  print_fields(
    out,
    {{"run", s.run_id},
     {"workflow", s.workflow_name},
     {"status", std::string{to_string(s.status)}},
     {"waiting on", join(s.pending_approvals)},
     {"reason", s.status == model::run_status::paused ? s.pending_reason : ""},
     {"started", format_time(s.started_at)},
     {"updated", format_time(s.updated_at)},
     {"steps done", join(steps)},
     {"input", json_text(s.input)},
     {"metadata", json_text(s.metadata)},
     {"result", s.outcome ? describe(*s.outcome) : ""},
     {"cancelled by", s.cancelled_by}});
}

void print(std::ostream& out, const cleanup_report& r) {
  out << "removed " << plural(r.runs.size(), "finished run") << " last "
      << "updated before " << format_time(r.cutoff) << " and "
      << plural(r.approvals.size(), "approval") << '\n';
  for (const auto& id : r.runs)
    out << "  run " << terminal_text(id) << '\n';
  for (const auto& key : r.approvals)
    out << "  approval " << terminal_text(key) << '\n';
}

/// C1 controls, and the bidirectional embeddings, overrides and isolates
/// that reorder what follows them on screen.
bool hidden_control(utf::code_point c) {
  return (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E)
         || (c >= 0x2066 && c <= 0x2069);
}

} // namespace

std::string terminal_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::array<char, 16> escape{};
  while (!text.empty()) {
    auto end = text.begin();
    const auto c = utf::utf_traits<char>::decode(end, text.end());
    const auto length = static_cast<std::size_t>(end - text.begin());
    if (!utf::is_valid_codepoint(c) || c < 0x20 || c == 0x7F) {
      std::snprintf(escape.data(), escape.size(), "\\x%02X",
                    static_cast<unsigned char>(text[0]));
      out += escape.data();
      text.remove_prefix(1);
    } else if (hidden_control(c)) {
      std::snprintf(escape.data(), escape.size(), "\\u{%04X}",
                    static_cast<unsigned>(c));
      out += escape.data();
      text.remove_prefix(length);
    } else {
      out += text.substr(0, length);
      text.remove_prefix(length);
    }
  }
  return out;
}

void print_text(std::ostream& out, const report& r) {
  std::visit([&](const auto& x) { print(out, x); }, r);
}

} // namespace signoff::cli
