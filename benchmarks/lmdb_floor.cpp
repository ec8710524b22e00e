#include "lmdb_floor.hpp"

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include <lmdb.h>

#include "measure.hpp"

namespace signoff::bench {

namespace {

void check(int rc, const char* what) {
  if (rc != MDB_SUCCESS)
    fail(std::string{"LMDB floor: "} + what + ": " + mdb_strerror(rc));
}

/// A synced LMDB environment in a fresh directory, removed on destruction.
class floor_env {
public:
  explicit floor_env(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    check(mdb_env_create(&env_), "mdb_env_create");
    check(mdb_env_set_mapsize(env_, std::size_t{1} << 30U), "set_mapsize");
    // Flags 0: every commit fsyncs data and meta page, as signoff's
    // default durability does.
    check(mdb_env_open(env_, dir_.c_str(), 0, 0644), "mdb_env_open");
  }
  ~floor_env() {
    mdb_env_close(env_);
    std::filesystem::remove_all(dir_);
  }
  floor_env(const floor_env&) = delete;
  floor_env& operator=(const floor_env&) = delete;

  /// Commits one transaction putting keys [first, first + n).
  void put_committed(std::size_t first, std::size_t n) {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    MDB_dbi dbi = 0;
    check(mdb_dbi_open(txn, nullptr, 0, &dbi), "mdb_dbi_open");
    for (auto i = first; i < first + n; ++i) {
      std::array<char, 24> key_text{};
      const auto key_size = static_cast<std::size_t>(
        std::snprintf(key_text.data(), key_text.size(), "k%016zu", i));
      MDB_val key{key_size, key_text.data()};
      MDB_val value{value_.size(), value_.data()};
      check(mdb_put(txn, dbi, &key, &value, 0), "mdb_put");
    }
    check(mdb_txn_commit(txn), "mdb_txn_commit");
  }

private:
  std::filesystem::path dir_;
  MDB_env* env_ = nullptr;
  std::vector<char> value_ = std::vector<char>(1024, 'x');
};

} // namespace

lmdb_floor measure_lmdb_floor(const std::filesystem::path& dir,
                              std::size_t commits, std::size_t batches,
                              std::size_t batch) {
  floor_env env{dir};
  lmdb_floor out;
  auto start = bench_clock::now();
  for (std::size_t i = 0; i < commits; ++i)
    env.put_committed(i, 1);
  out.single_put_commits_per_s
    = static_cast<double>(commits) / seconds_since(start);
  start = bench_clock::now();
  for (std::size_t b = 0; b < batches; ++b)
    env.put_committed(commits + b * batch, batch);
  out.batched_puts_per_s
    = static_cast<double>(batches * batch) / seconds_since(start);
  return out;
}

} // namespace signoff::bench
