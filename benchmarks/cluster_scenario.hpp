#pragma once

// The `cluster` scenario of signoff-bench: `--nodes` nodes of one cluster,
// each a process of its own (CAF tells nodes apart by host and process
// id), linked over loopback under mutual TLS with certificates made by the
// `openssl` command.

#include "bench_options.hpp"

namespace signoff::bench {

/// Starts `--nodes` processes (`--scenario cluster-node`), and once they
/// are linked lets each run `--cycles` cycles (execute, the run pauses on
/// its approval, grant, the run completes) with `--in-flight` in flight,
/// all nodes at once: the cluster's cycles per second. Every node starts
/// its runs on keys spread over the nodes by `owner_of`, so with n nodes
/// about (n-1)/n of the cycles reach, decide and wake across nodes. Then
/// the first node alone runs `--pending` cycles one after the other,
/// timing each grant: the latency of a decision on a key it owns and of
/// one routed to the key's owner (p50, p99). `--store memory|lmdb` (LMDB
/// with `--sync`).
void cluster_scenario(const bench_options& o);

/// One node of the cluster scenario (`--node` of `--nodes`).
void cluster_node_scenario(const bench_options& o);

} // namespace signoff::bench
