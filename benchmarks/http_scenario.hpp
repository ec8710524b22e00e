#pragma once

// The `http` scenario of signoff-bench: a real HTTP server on loopback over
// an orchestrator, driven by keep-alive connections.

#include "bench_options.hpp"

namespace signoff::bench {

/// Two phases, each checked:
/// - `--cycles` runs paused on distinct keys are decided over HTTP by
///   `--in-flight` keep-alive connections, one decision in flight on each:
///   decisions/s and the latency of one decision (p50, p99);
/// - `--pending` runs paused on one key are woken by one decision over
///   HTTP while another connection asks `GET /health` again and again:
///   the latency of /health during the wake (p50, p99) and the wake's time.
/// `--store memory|lmdb` (with `--sync`) picks the stores.
void http_scenario(const bench_options& o);

} // namespace signoff::bench
