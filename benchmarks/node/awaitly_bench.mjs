// The seed's implementation on signoff's benchmark cycle: awaitly's HITL
// orchestrator with its in-memory stores. Create an order, wait for the
// manager's approval, fulfil the order; `waiting` runs are paused, then
// granted and resumed. Prints RESULT lines named like signoff-bench's
// pending figures (awaitly.<mode>.n<N>.<figure>), and checks every run
// completed with its value, each step once; any mismatch exits non-zero.
//
// One process per scenario, in two passes: the first measures resident
// memory from a fresh heap (and compiles the code paths), the second is
// timed. Measuring both in one pass would either time V8's compiling or
// count the warm-up's freed heap as room for the parked runs.
//
// awaitly's autoResume does not resume anything: grantApproval lists the
// runs waiting on the key (by scanning every stored run) and the caller
// resumes them. Without it the caller resumes the run it knows. Because
// each auto-resume grant scans all N runs, that mode grants an evenly
// spread sample of at most --sample runs while all N wait.
//
// Usage: node --expose-gc awaitly_bench.mjs --auto-resume on|off
//          --waiting N [--sample 2000]

const approver = "manager@example.com";

function parseArgs(argv) {
  const args = { autoResume: undefined, waiting: 0, sample: 2000 };
  for (let k = 0; k < argv.length; k += 2) {
    if (argv[k] === "--auto-resume") args.autoResume = argv[k + 1] === "on";
    else if (argv[k] === "--waiting") args.waiting = Number(argv[k + 1]);
    else if (argv[k] === "--sample") args.sample = Number(argv[k + 1]);
    else fail(`unknown flag ${argv[k]}`);
  }
  if (args.autoResume === undefined || !(args.waiting > 0) || !(args.sample > 0))
    fail("usage: awaitly_bench.mjs --auto-resume on|off --waiting N [--sample N]");
  return args;
}

/// The package's modules, or null (said on stdout) when it is unavailable.
async function loadAwaitly() {
  try {
    const [core, hitl, workflow] = await Promise.all([
      import("awaitly"), import("awaitly/hitl"), import("awaitly/workflow")]);
    if (typeof hitl.createHITLOrchestrator !== "function")
      throw new Error("awaitly/hitl has no createHITLOrchestrator");
    return { ok: core.ok, ...hitl, createWorkflow: workflow.createWorkflow };
  } catch (e) {
    console.log(`awaitly: UNAVAILABLE (${e.message}); side-by-side skipped`);
    return null;
  }
}

function fail(what) {
  console.error(`awaitly_bench FAILED: ${what}`);
  process.exit(1);
}

const orderId = (i) => `o${i}`;
const runId = (i) => `run-${orderId(i)}`;
const approvalKey = (i) => `approval:manager:${orderId(i)}`;

function residentBytes() {
  global.gc();
  return process.memoryUsage().rss;
}

function report(name, value, unit) {
  console.log(`RESULT name=${name} value=${Number(value.toPrecision(6))} unit=${unit}`);
}

function percentile(sorted, q) {
  return sorted[Math.floor(q * (sorted.length - 1))];
}

/// The orchestrator and the order workflow, with counters of its steps.
function setUp(aw) {
  const counts = { created: 0, fulfilled: 0 };
  const approvals = aw.createMemoryApprovalStore();
  const orchestrator = aw.createHITLOrchestrator({
    approvalStore: approvals,
    workflowStateStore: aw.createMemoryWorkflowStateStore(),
  });
  const checkApproval = aw.createApprovalChecker(approvals);
  const deps = {
    createOrder: async (id) => { ++counts.created; return aw.ok({ orderId: id, total: 15000 }); },
    fulfilOrder: async () => { ++counts.fulfilled; return aw.ok({ shipped: true }); },
  };
  const factory = ({ resumeState, onEvent }) =>
    aw.createWorkflow("order", deps, { resumeState, onEvent });
  const order = async ({ step, deps, args }) => {
    const created = await step("create-order", () => deps.createOrder(args.orderId), { key: "create-order" });
    const key = `approval:manager:${created.orderId}`;
    const approval = await step(key, aw.createApprovalStep({ key, checkApproval: checkApproval(key) }), { key });
    await step("fulfil-order", () => deps.fulfilOrder(), { key: "fulfil-order" });
    return { orderId: created.orderId, approvedBy: approval.approvedBy };
  };
  return { counts, orchestrator, factory, order };
}

async function pauseAll(setup, n) {
  const start = performance.now();
  for (let i = 0; i < n; ++i) {
    const r = await setup.orchestrator.execute("order", setup.factory, setup.order,
      { orderId: orderId(i) }, { runId: runId(i) });
    if (r.status !== "paused" || r.pendingApprovals.join() !== approvalKey(i))
      fail(`${runId(i)} did not pause on ${approvalKey(i)}: ${JSON.stringify(r)}`);
  }
  return (performance.now() - start) / 1e3;
}

/// Grants and resumes run `i`; returns the microseconds from grant to the
/// resumed run's completion.
async function cycleEnd(setup, i, autoResume) {
  const start = performance.now();
  const g = await setup.orchestrator.grantApproval(approvalKey(i), { approvedBy: approver },
    { approvedBy: approver, autoResume });
  if (g.resumedWorkflows.join() !== (autoResume ? runId(i) : ""))
    fail(`granting ${approvalKey(i)} listed ${JSON.stringify(g.resumedWorkflows)}`);
  const r = await setup.orchestrator.resume(runId(i), setup.factory, setup.order);
  const v = r.result?.value;
  if (r.status !== "resumed" || !r.result.ok || v.orderId !== orderId(i) || v.approvedBy !== approver)
    fail(`${runId(i)} did not complete with its value: ${JSON.stringify(r)}`);
  return (performance.now() - start) * 1e3;
}

/// Grants and resumes an even spread of `granted` of the `waiting` runs;
/// returns the seconds taken and each cycle's latency.
async function wakeSpread(setup, waiting, granted, autoResume) {
  const latencies = [];
  const start = performance.now();
  for (let k = 0; k < granted; ++k)
    latencies.push(await cycleEnd(setup, Math.floor((k * waiting) / granted), autoResume));
  return { seconds: (performance.now() - start) / 1e3, latencies };
}

function expectCounts(setup, created, fulfilled) {
  if (setup.counts.created !== created || setup.counts.fulfilled !== fulfilled)
    fail(`steps ran ${setup.counts.created} and ${setup.counts.fulfilled} times, expected ${created} and ${fulfilled}`);
}

/// Resident memory per parked run, after a few cycles compiled the code
/// (their garbage is small against what the parked runs take); then
/// completes a sample of them, so the timed pass finds every path hot.
async function memoryPass(aw, waiting, autoResume) {
  const warm = setUp(aw);
  await pauseAll(warm, 300);
  await wakeSpread(warm, 300, 300, autoResume);
  const setup = setUp(aw);
  const before = residentBytes();
  await pauseAll(setup, waiting);
  const perRun = (residentBytes() - before) / waiting;
  const granted = Math.min(waiting, 2000);
  await wakeSpread(setup, waiting, granted, autoResume);
  expectCounts(setup, waiting, granted);
  return perRun;
}

async function scenario(aw, { autoResume, waiting, sample }) {
  const label = `awaitly.auto-resume-${autoResume ? "on" : "off"}.n${waiting}`;
  const perRun = await memoryPass(aw, waiting, autoResume);
  const setup = setUp(aw);
  const pauseS = await pauseAll(setup, waiting);
  const granted = autoResume ? Math.min(waiting, sample) : waiting;
  if (granted < waiting)
    console.log(`# ${label}: granted an even sample of ${granted} of ${waiting} waiting runs`);
  const wake = await wakeSpread(setup, waiting, granted, autoResume);
  expectCounts(setup, waiting, granted);
  wake.latencies.sort((a, b) => a - b);
  report(`${label}.pause_rate`, waiting / pauseS, "runs/s");
  report(`${label}.wake_rate`, granted / wake.seconds, "runs/s");
  report(`${label}.rss_per_run`, perRun, "bytes");
  report(`${label}.wake_p50`, percentile(wake.latencies, 0.5), "us");
  report(`${label}.wake_p99`, percentile(wake.latencies, 0.99), "us");
  report(`${label}.cycle_time`, (pauseS / waiting + wake.seconds / granted) * 1e6, "us");
}

const args = parseArgs(process.argv.slice(2));
if (typeof global.gc !== "function") fail("run node with --expose-gc");
const aw = await loadAwaitly();
if (aw) await scenario(aw, args);
