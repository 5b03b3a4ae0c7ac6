// TestPostgres: a throwaway PostgreSQL server for one test, from Debian's
// `postgresql` package: initdb into a temporary directory (as the postgres
// user when the tests run as root), started on a unix socket in that
// directory only (no TCP), stopped and removed at the end.
//
// When it cannot start (no package, no postgres user), StartOrSkip skips the
// test with the reason, unless STSYNC_REQUIRE_POSTGRES=1 (set by CI), where
// it fails it: CI never passes with the PostgreSQL tests skipped.
#ifndef STSYNC_TESTS_TEST_POSTGRES_H_
#define STSYNC_TESTS_TEST_POSTGRES_H_

#include <memory>
#include <string>
#include <vector>

namespace stsync::test {

class TestPostgres {
 public:
  // A running server, or null after skipping (or failing) the test.
  static std::unique_ptr<TestPostgres> StartOrSkip();
  ~TestPostgres();

  // The libpq URI of database `db` as the superuser.
  std::string Url(const std::string& db = "postgres") const;
  // Starts Debian's PgBouncer in front of the server, in transaction pooling
  // mode with one server connection, so that every client's transactions
  // share it; returns its URI for `postgres`, or "" after skipping (or
  // failing, as StartOrSkip) the test. Stopped with the server.
  std::string StartBouncerOrSkip();
  // Stops the server at once (as a crash would), and starts it again.
  void Stop();
  void Start();

  // Runs `sql` through psql; fails the test on an error. Returns the
  // output, one line per row, columns separated by '|'.
  std::string Psql(const std::string& sql) const;
  int64_t Int(const std::string& sql) const;
  // Psql's output lines, sorted.
  std::vector<std::string> SortedRows(const std::string& sql) const;

 private:
  TestPostgres() = default;
  // Runs argv as the server's owner; its exit code and output.
  int RunAsOwner(std::vector<std::string> argv, std::string* out) const;

  std::string dir_;  // the socket's directory; data/ below it
  std::string bin_;  // the server's binaries
  bool as_postgres_ = false;
  bool bouncer_ = false;  // running from dir_/bouncer
};

}  // namespace stsync::test

#endif  // STSYNC_TESTS_TEST_POSTGRES_H_
