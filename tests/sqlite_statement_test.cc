#include "sink/sqlite_statement.h"

#include <doctest/doctest.h>

#include "test_util.h"

namespace stsync {
namespace {

// An in-memory database with one table `t (x)`.
struct Db {
  sqlite3* db = nullptr;
  Db() {
    REQUIRE(sqlite3_open(":memory:", &db) == SQLITE_OK);
    REQUIRE(SqliteExec(db, "CREATE TABLE t (x INTEGER)").ok());
  }
  ~Db() { sqlite3_close(db); }
  std::string Count() { return *SqliteQueryText(db, "SELECT count(*) FROM t"); }
};

TEST_CASE("a Transaction rolls back unless it was committed") {
  Db d;
  {
    Transaction tx(d.db);
    REQUIRE(tx.Begin().ok());
    REQUIRE(
        SqliteRun(d.db, "INSERT INTO t VALUES (?1)", {int64_t{1}}, "t").ok());
  }
  CHECK(d.Count() == "0");
  CHECK(sqlite3_get_autocommit(d.db) != 0);  // no transaction left open
  {
    Transaction tx(d.db);
    REQUIRE(tx.Begin().ok());
    REQUIRE(
        SqliteRun(d.db, "INSERT INTO t VALUES (?1)", {int64_t{2}}, "t").ok());
    REQUIRE(tx.Commit().ok());
  }
  CHECK(d.Count() == "1");
}

TEST_CASE("SqliteRun binds NULL, integers and text, and names what failed") {
  Db d;
  REQUIRE(SqliteRun(d.db, "INSERT INTO t VALUES (?1), (?2), (?3)",
                    {nullptr, int64_t{7}, std::string_view("seven")}, "t")
              .ok());
  CHECK(*SqliteQueryText(d.db,
                         "SELECT group_concat(coalesce(x, 'null'), ',') "
                         "FROM t") == "null,7,seven");
  Status bad = SqliteRun(d.db, "INSERT INTO nope VALUES (1)", {}, "adding");
  CHECK(bad.code() == Status::Code::kIo);
  CHECK(bad.message().find("adding: no such table: nope") != std::string::npos);
  CHECK_FALSE(SqliteQueryText(d.db, "SELECT x FROM t WHERE 0").ok());
}

}  // namespace
}  // namespace stsync
