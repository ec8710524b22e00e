#pragma once

#include <cstdint>
#include <string>

#include <boost/json/conversion.hpp>
#include <boost/json/value.hpp>

#include "signoff/model/time.hpp"

namespace signoff::model {

/// One change to an approval, appended in the same atomic step as the change.
struct audit_entry {
  std::string key;
  /// Position in this key's trail, from 1.
  std::uint64_t sequence = 0;
  /// "created", "granted" (quorum step), "approved", "edited", "rejected",
  /// "cancelled", "expired", "removed" or "commented" (a comment, which
  /// decides nothing).
  std::string action;
  /// Who made the change ("system" for expiry, "run:<id>" for creation).
  std::string actor;
  time_point at;
  /// Why, as the decider gave it; for "commented", the comment's text.
  std::string reason;
  boost::json::value value;

  friend bool operator==(const audit_entry&, const audit_entry&) = default;
};

void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const audit_entry& e);
boost::json::result<audit_entry>
tag_invoke(boost::json::try_value_to_tag<audit_entry>,
           const boost::json::value& in);
/// Appends `e`'s JSON text to `out` (what serializing `value_from(e)`
/// gives, written directly: stores write one on every change).
void append_json(std::string& out, const audit_entry& e);

} // namespace signoff::model
