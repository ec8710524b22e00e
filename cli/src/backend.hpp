#pragma once

// Where the commands read and decide: an LMDB directory, or a signoff
// server over its JSON API. Both answer with the same reports, so what a
// command prints does not depend on which one it used.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "reports.hpp"
#include "signoff/model/approval.hpp"
#include "signoff/model/result.hpp"
#include "signoff/model/time.hpp"
#include "signoff/persistence/workflow_state_store.hpp"

namespace signoff::cli {

/// Which approvals `bulk` decides: the listed keys, or those pending under
/// `prefix` now.
struct bulk_target {
  std::vector<std::string> keys{};
  std::optional<std::string> prefix{};
};

/// The operations behind the commands. On any error nothing was changed
/// (for a server: unless it was SERVER_UNREACHABLE after a timeout). Every
/// call may also fail with STORAGE_ERROR (LMDB) or SERVER_UNREACHABLE,
/// UNAUTHORIZED, FORBIDDEN and UNEXPECTED_ERROR (server).
class backend {
public:
  virtual ~backend() = default;

  /// The pending, unexpired approvals whose keys start with `prefix`
  /// (literally), in key order.
  virtual model::result<pending_report> pending(const std::string& prefix) = 0;

  /// One approval and its audit trail. Errors: NOT_FOUND.
  virtual model::result<approval_report> approval(const std::string& key) = 0;

  /// Decides an approval that exists (`d.require_existing`); the report's
  /// decision names the actor it was recorded under. Errors: NOT_FOUND,
  /// APPROVAL_CONFLICT (details: the winning status), INVALID_ARGUMENT.
  virtual model::result<decision_report> decide(model::decision d) = 0;

  /// Comments on an approval that exists, as `actor` (a server records its
  /// token's identity): the audit entry written. Errors: NOT_FOUND,
  /// INVALID_ARGUMENT (an empty or too long text).
  virtual model::result<comment_report> comment(const std::string& key,
                                                const std::string& text,
                                                const std::string& actor)
    = 0;

  /// Reassigns or delegates a pending approval as `change` says; the
  /// report's change names the actor it was recorded under. Errors:
  /// NOT_FOUND, APPROVAL_CONFLICT (decided), FORBIDDEN, INVALID_ARGUMENT.
  virtual model::result<assignment_report>
  change_assignment(model::assignment_change change) = 0;

  /// Decides each approval `which` names as `d` says (its key unused), one
  /// atomic decision per key; a key's error does not stop the others.
  /// Errors (nothing decided): INVALID_ARGUMENT for no keys, an empty or
  /// repeated key, or more than `model::max_bulk_keys`.
  virtual model::result<bulk_report> decide_bulk(const bulk_target& which,
                                                 model::decision d)
    = 0;

  /// The runs matching `filter`, in id order.
  virtual model::result<runs_report> runs(const persistence::run_filter& filter)
    = 0;

  /// One run. Errors: NOT_FOUND.
  virtual model::result<run_report> run(const std::string& run_id) = 0;

  /// Removes finished runs last updated more than `max_age` ago and the
  /// decided approvals no paused run needs.
  virtual model::result<cleanup_report> cleanup(model::duration max_age) = 0;
};

/// The signoff database in `dir`, worked on as of `now`. A directory
/// without one is refused rather than created, so a mistyped path changes
/// nothing. Errors: STORAGE_ERROR.
[[nodiscard]] model::result<std::unique_ptr<backend>>
open_lmdb_backend(const std::string& dir, model::time_point now);

/// The server at `url`, called with `token` (empty for none), waiting as
/// long as `limits` allow. Nothing is sent until the first call.
[[nodiscard]] std::unique_ptr<backend>
make_server_backend(server_url url, std::string token, http_limits limits);

} // namespace signoff::cli
