#pragma once

// A seam for tests: a way to make the server's connection handling throw
// where no request can, to check that it closes only that connection.

#include <functional>

namespace signoff::http::detail {

/// Where a connection's work happens; `reply` is where the outcome of a
/// call the connection waited for (a decision, say) arrives.
enum class connection_step { accept, read, route, write, reply };

/// When set, called at each step of every connection. Tests only: set it
/// before a server starts and clear it after it stopped.
extern std::function<void(connection_step)> fault_hook;

} // namespace signoff::http::detail
