#pragma once

// An LMDB directory seen from outside the library: closing the stores, then
// reading and writing the environment with lmdb.h alone, down to a
// byte-exact dump of every database. LMDB must not be open twice in one
// process, so the raw environment is opened only while the stores are
// closed.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <lmdb.h>

#include "signoff/persistence/lmdb_store.hpp"
#include "support/printing.hpp"

namespace signoff::test {

/// Drops every handle of `stores`, which closes the environment.
inline void close_lmdb_stores(persistence::lmdb_stores& stores) {
  std::weak_ptr<persistence::approval_store> approvals = stores.approvals;
  std::weak_ptr<persistence::workflow_state_store> runs = stores.runs;
  std::weak_ptr<persistence::journal> journal = stores.journal;
  std::weak_ptr<persistence::outbox> notifications = stores.notifications;
  stores = {};
  BOOST_TEST_REQUIRE(approvals.expired());
  BOOST_TEST_REQUIRE(runs.expired());
  BOOST_TEST_REQUIRE(journal.expired());
  BOOST_TEST_REQUIRE(notifications.expired());
}

/// Every record of every named database, by database name; within one,
/// in LMDB's order (the duplicates of a DUPSORT key each once).
using lmdb_dump
  = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;

/// Where two dumps first differ, readably; empty if they are equal.
inline std::string first_difference(const lmdb_dump& before,
                                    const lmdb_dump& after) {
  if (before == after)
    return {};
  for (const auto& [name, records] : before)
    if (!after.contains(name))
      return "database '" + name + "' disappeared";
  for (const auto& [name, records] : after) {
    auto old = before.find(name);
    if (old == before.end())
      return "database '" + name + "' appeared";
    if (old->second == records)
      continue;
    const auto& was = old->second;
    std::size_t i = 0;
    while (i < was.size() && i < records.size() && was[i] == records[i])
      ++i;
    if (i == was.size())
      return name + ": record added: " + printable(records[i].first) + " = "
             + printable(records[i].second);
    if (i == records.size())
      return name + ": record removed: " + printable(was[i].first);
    return name + ": record " + printable(was[i].first) + " = "
           + printable(was[i].second) + " became " + printable(records[i].first)
           + " = " + printable(records[i].second);
  }
  return "the dumps differ";
}

/// Where format 4 keeps an approval's record and its audit entries, and a
/// run's header, in the `records` database: spelled out here apart from
/// the library, so that a change of the layout shows in the tests.
inline std::string approval_record(std::string_view key) {
  std::string k{'a', static_cast<char>(key.size() >> 8U),
                static_cast<char>(key.size() & 0xFFU)};
  return k.append(key) + 'r';
}
inline std::string audit_record(std::string_view key, std::uint64_t sequence) {
  std::string k{'a', static_cast<char>(key.size() >> 8U),
                static_cast<char>(key.size() & 0xFFU)};
  k.append(key) += 't';
  for (int shift = 56; shift >= 0; shift -= 8)
    k += static_cast<char>((sequence >> static_cast<unsigned>(shift)) & 0xFFU);
  return k;
}
inline std::string run_record(std::string_view id) {
  std::string k{'r', static_cast<char>(id.size())};
  return k.append(id) + 'h';
}

/// The environment opened directly with LMDB, with the stores closed.
class raw_lmdb {
public:
  explicit raw_lmdb(const std::string& path, bool read_only = false) {
    int rc = mdb_env_create(&env_);
    if (rc == MDB_SUCCESS)
      rc = mdb_env_set_maxdbs(env_, 64);
    if (rc == MDB_SUCCESS)
      rc = mdb_env_open(env_, path.c_str(), read_only ? MDB_RDONLY : 0, 0644);
    if (rc != MDB_SUCCESS) {
      mdb_env_close(env_);
      env_ = nullptr;
    }
    BOOST_TEST_REQUIRE(rc == MDB_SUCCESS,
                       "raw open of '" << path << "': " << mdb_strerror(rc));
  }
  ~raw_lmdb() {
    mdb_env_close(env_);
  }
  raw_lmdb(const raw_lmdb&) = delete;
  raw_lmdb& operator=(const raw_lmdb&) = delete;

  /// Stores `value` under `key` in the named database `db`, created if
  /// missing (a database of an older format, say).
  void put(const char* db, std::string_view key, std::string_view value) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    BOOST_TEST_REQUIRE(rc == MDB_SUCCESS, mdb_strerror(rc));
    MDB_dbi dbi = 0;
    rc = mdb_dbi_open(txn, db, MDB_CREATE, &dbi);
    if (rc == MDB_SUCCESS) {
      MDB_val k = val(key);
      MDB_val v = val(value);
      rc = mdb_put(txn, dbi, &k, &v, 0);
    }
    if (rc == MDB_SUCCESS)
      rc = mdb_txn_commit(txn);
    else
      mdb_txn_abort(txn);
    BOOST_TEST_REQUIRE(rc == MDB_SUCCESS,
                       "raw put into " << db << ": " << mdb_strerror(rc));
  }

  /// Deletes `key` from the named database `db` (a missing key is fine).
  void del(const char* db, std::string_view key) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    BOOST_TEST_REQUIRE(rc == MDB_SUCCESS, mdb_strerror(rc));
    MDB_dbi dbi = 0;
    rc = mdb_dbi_open(txn, db, 0, &dbi);
    if (rc == MDB_SUCCESS) {
      MDB_val k = val(key);
      rc = mdb_del(txn, dbi, &k, nullptr);
      if (rc == MDB_NOTFOUND)
        rc = MDB_SUCCESS;
    }
    if (rc == MDB_SUCCESS)
      rc = mdb_txn_commit(txn);
    else
      mdb_txn_abort(txn);
    BOOST_TEST_REQUIRE(rc == MDB_SUCCESS,
                       "raw delete from " << db << ": " << mdb_strerror(rc));
  }

  /// The value under `key` in `db`, or nothing.
  std::optional<std::string> get(const char* db, std::string_view key) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    BOOST_TEST_REQUIRE(rc == MDB_SUCCESS, mdb_strerror(rc));
    MDB_dbi dbi = 0;
    std::optional<std::string> out;
    rc = mdb_dbi_open(txn, db, 0, &dbi);
    if (rc == MDB_SUCCESS) {
      MDB_val k = val(key);
      MDB_val v;
      rc = mdb_get(txn, dbi, &k, &v);
      if (rc == MDB_SUCCESS)
        out.emplace(static_cast<const char*>(v.mv_data), v.mv_size);
    }
    mdb_txn_abort(txn);
    BOOST_TEST_REQUIRE((rc == MDB_SUCCESS || rc == MDB_NOTFOUND),
                       "raw get from " << db << ": " << mdb_strerror(rc));
    return out;
  }

  /// The id of the last committed transaction: unchanged if nothing was
  /// written.
  std::size_t last_txnid() {
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    return info.me_last_txnid;
  }

  /// Every named database (the main database's keys name them) with all
  /// its records, in one read transaction.
  lmdb_dump dump() {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    BOOST_TEST_REQUIRE(rc == MDB_SUCCESS, mdb_strerror(rc));
    lmdb_dump out;
    MDB_dbi main_db = 0;
    rc = mdb_dbi_open(txn, nullptr, 0, &main_db);
    std::vector<std::string> names;
    if (rc == MDB_SUCCESS)
      rc = each_record(txn, main_db, [&](std::string key, std::string) {
        names.push_back(std::move(key));
      });
    for (const auto& name : names) {
      if (rc != MDB_SUCCESS)
        break;
      MDB_dbi dbi = 0;
      rc = mdb_dbi_open(txn, name.c_str(), 0, &dbi);
      auto& records = out[name];
      if (rc == MDB_SUCCESS)
        rc = each_record(txn, dbi, [&](std::string key, std::string value) {
          records.emplace_back(std::move(key), std::move(value));
        });
    }
    mdb_txn_abort(txn);
    BOOST_TEST_REQUIRE(rc == MDB_SUCCESS, "raw dump: " << mdb_strerror(rc));
    return out;
  }

private:
  static MDB_val val(std::string_view bytes) {
    return {bytes.size(), const_cast<char*>(bytes.data())}; // NOLINT
  }

  /// Calls `visit(key, value)` for every record of `dbi`; an LMDB code.
  template <class Visit>
  static int each_record(MDB_txn* txn, MDB_dbi dbi, Visit visit) {
    MDB_cursor* cursor = nullptr;
    if (int rc = mdb_cursor_open(txn, dbi, &cursor); rc != MDB_SUCCESS)
      return rc;
    MDB_val k;
    MDB_val v;
    int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST);
    while (rc == MDB_SUCCESS) {
      visit(std::string{static_cast<const char*>(k.mv_data), k.mv_size},
            std::string{static_cast<const char*>(v.mv_data), v.mv_size});
      rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
  }

  MDB_env* env_ = nullptr;
};

} // namespace signoff::test
