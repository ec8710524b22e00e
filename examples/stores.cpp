// The stores: the Quick Start's cycle on LMDB in a temporary directory,
// with a restart between the pause and the grant (the run comes back from
// the directory and completes without creating its order again), then the
// in-memory stores named explicitly. Exits non-zero if anything went
// otherwise.

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>

#include <boost/json.hpp>
#include <unistd.h>

#include <signoff/persistence/lmdb_store.hpp>
#include <signoff/signoff.hpp>

using boost::json::value;
using signoff::model::result;

namespace {

std::atomic<int> orders_created{0};

signoff::workflow order_workflow() {
  return [](signoff::step& step,
            const value& input) -> signoff::task<result<value>> {
    auto order = co_await step.run("create-order", [&] {
      ++orders_created;
      return value{{"orderId", input.at("orderId")}};
    });
    std::string id{order.at("orderId").as_string()};
    auto approval = co_await step.approval("approval:manager:" + id,
                                           "Waiting for manager approval");
    co_return value{{"orderId", id}, {"approvedBy", approval.at("approvedBy")}};
  };
}

bool check(bool ok, const char* what) {
  if (!ok)
    std::cerr << "stores: " << what << '\n';
  return ok;
}

/// A new empty directory, removed with everything in it at the end.
class temp_dir {
public:
  temp_dir() {
    auto pattern = (std::filesystem::temp_directory_path()
                    / "signoff-stores-example-XXXXXX")
                     .string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("cannot make a temporary directory");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] std::string str() const {
    return path_.string();
  }

private:
  std::filesystem::path path_;
};

/// Opens the directory, registers the workflow and calls `body` with the
/// orchestrator; the orchestrator stops and the directory closes after.
template <class Body>
void with_lmdb_orchestrator(const std::string& directory, Body body) {
  // [readme:lmdb]
  auto stores = signoff::persistence::open_lmdb_stores({.path = directory});
  if (stores.is_err())
    throw std::runtime_error(stores.error().message);

  signoff::orchestrator_options options;
  options.use_lmdb_stores(*stores); // stores and journal (group commit)
  signoff::orchestrator orchestrator{std::move(options)};
  // Registering a workflow also resumes its runs stored as running.
  orchestrator.register_workflow("order-approval", order_workflow());
  // [readme:end]
  body(orchestrator);
}

} // namespace

int main() {
  bool ok = true;
  try {
    temp_dir dir;
    std::string run_id;
    // The run pauses, and the process "stops".
    with_lmdb_orchestrator(dir.str(), [&](signoff::orchestrator& o) {
      auto r = o.execute("order-approval", value{{"orderId", "ord_9"}});
      ok &= check(r.is_ok() && to_string(r->status) == "paused",
                  "the run did not pause");
      if (r.is_ok())
        run_id = r->run_id;
    });
    // A new orchestrator over the same directory: nothing was loaded at
    // start, the grant wakes the run from the store.
    with_lmdb_orchestrator(dir.str(), [&](signoff::orchestrator& o) {
      auto pending = o.list_pending_approvals("approval:manager:");
      ok &= check(pending.is_ok()
                    && *pending
                         == std::vector<std::string>{"approval:manager:ord_9"},
                  "the approval is not pending after the restart");
      auto g = o.grant_approval("approval:manager:ord_9",
                                {{"approvedBy", "jane@example.com"}},
                                {.approved_by = "jane@example.com"});
      ok &= check(g.is_ok()
                    && g->resumed_workflows == std::vector<std::string>{run_id},
                  "the grant did not resume the stored run");
      auto status = o.get_workflow_status(run_id);
      ok &= check(status.is_ok() && status->outcome && status->outcome->is_ok()
                    && status->outcome->value().at("approvedBy")
                         == "jane@example.com",
                  "the run did not complete");
      if (status.is_ok() && status->outcome && status->outcome->is_ok())
        std::cout << "lmdb   -> "
                  << boost::json::serialize(status->outcome->value()) << '\n';
    });
    ok &= check(orders_created == 1, "create-order ran again after restart");

    // [readme:memory]
    signoff::orchestrator_options options;
    options.approval_store = signoff::persistence::make_memory_approval_store();
    options.workflow_state_store
      = signoff::persistence::make_memory_workflow_state_store();
    // [readme:end]
    signoff::orchestrator orchestrator{std::move(options)};
    orchestrator.register_workflow("order-approval", order_workflow());
    auto r = orchestrator.execute("order-approval", {{"orderId", "ord_10"}});
    auto g = orchestrator.grant_approval("approval:manager:ord_10",
                                         {{"approvedBy", "sam"}},
                                         {.approved_by = "sam"});
    ok &= check(r.is_ok() && g.is_ok() && g->resumed_workflows.size() == 1,
                "the in-memory cycle failed");
    std::cout << "memory -> resumed "
              << (g.is_ok() ? g->resumed_workflows.size() : 0) << " run\n";
  } catch (const std::exception& e) {
    std::cerr << "stores: " << e.what() << '\n';
    return 1;
  }
  return ok ? 0 : 1;
}
