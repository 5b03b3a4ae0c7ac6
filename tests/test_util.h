// Helpers shared by the tests: temporary directories, running the real
// binaries, configs pointing at a FakeServer, and reading tables back.
#ifndef STSYNC_TESTS_TEST_UTIL_H_
#define STSYNC_TESTS_TEST_UTIL_H_

#include <sqlite3.h>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/transport.h"
#include "config/config.h"
#include "engine/scheduler.h"
#include "fake/fake_server.h"

namespace stsync::test {

// A fresh directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

struct ProcessResult {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;
  std::string out;  // stdout
  std::string err;  // stderr
  double seconds = 0;
  long max_rss_kb = 0;  // the process's peak resident memory
};

// A child process with captured output.
class Process {
 public:
  // Starts `argv` (argv[0] is the binary path).
  explicit Process(const std::vector<std::string>& argv);
  ~Process();
  void Signal(int sig);
  int pid() const { return pid_; }
  // Waits at most `timeout`; kills it with SIGKILL after that (and fails the
  // running test).
  ProcessResult Wait(std::chrono::milliseconds timeout);
  // What it has written to stderr so far.
  std::string ErrSoFar() const;

 private:
  int pid_ = -1;
  std::string out_path_, err_path_;
  std::chrono::steady_clock::time_point started_;
  bool waited_ = false;
};

// Runs a command to completion (at most 60 s).
ProcessResult Run(const std::vector<std::string>& argv);

// `text` with the first `from` replaced by `to`; `from` must occur.
std::string Replace(std::string text, const std::string& from,
                    const std::string& to);

// A config text for `server` writing to `db_path`. `endpoints` is the YAML
// value of `endpoints:`; `extra` is appended verbatim (more top-level keys).
// Split first syncs are off (`defaults: split_first_sync: false`).
std::string FakeConfigYaml(const fake::FakeServer& server,
                           const std::string& db_path,
                           const std::string& endpoints,
                           const std::string& extra = "");

// Parses a config text (no environment variables) or fails the test.
Config MustParseConfig(const std::string& yaml);

// FakeOptions with small, fast defaults for tests.
fake::FakeOptions SmallFake(std::vector<std::string> endpoints,
                            int records = 50, int page_size = 10);

// A database as stsync 0.2 (schema 2) left it: `jobs` in the old layout,
// keyed by its rowid (`id INTEGER PRIMARY KEY`), with `rows` rows whose ids
// start at 1,000,000,000 and whose data carry `pad_bytes` of padding.
void WriteSchema2Database(const std::string& path, int rows, int pad_bytes);

// The `data` column of every row of `table`, sorted.
std::vector<std::string> TableData(const std::string& db_path,
                                   const std::string& table);
// A single integer from a query.
int64_t QueryInt(const std::string& db_path, const std::string& sql);
std::string QueryText(const std::string& db_path, const std::string& sql);
// Runs `sql` (any number of statements) on a writable connection of its
// own, as a user's sqlite3 shell would; fails the test on an error.
void Exec(const std::string& db_path, const std::string& sql);
// Every row of a query, each column as text ("" for NULL).
std::vector<std::vector<std::string>> QueryRows(const std::string& db_path,
                                                const std::string& sql);

// A page of the JSON `records` (comma-separated) of `e` (null: jobs),
// continuing at `token`; fails the test if it does not parse.
Batch RecordsPage(const std::string& records, const std::string& token,
                  bool has_more = true, const Endpoint* e = nullptr);
// A page of jobs `ids`, each at version `ts` and active, with `extra` (more
// JSON members, from a comma) in each.
Batch MakePage(const std::vector<int>& ids, const std::string& ts,
               const std::string& token, bool has_more = true,
               const std::string& extra = "");

// A Transport that answers from a script and records what it was asked.
class ScriptedTransport : public Transport {
 public:
  struct Call {
    std::string method;  // GET or POST
    std::string url;
    HttpHeaders headers;
    HttpHeaders form;
  };
  // Queues the next answer: a response, or a transport failure.
  void Push(int status, std::string body,
            std::map<std::string, std::string> headers = {});
  void PushError(Status status);
  // Answers every token request with this (default: a 900 s token).
  void SetTokenResponse(int status, std::string body,
                        std::map<std::string, std::string> headers = {});

  Result<HttpResponse> Get(const std::string& url,
                           const HttpHeaders& headers) override;
  Result<HttpResponse> PostForm(const std::string& url, const HttpHeaders& form,
                                const HttpHeaders& headers) override;
  void Cancel() override { cancelled_ = true; }

  std::vector<Call> calls() const;
  int token_calls() const;
  // Delay applied to every token request (to make callers overlap).
  std::chrono::milliseconds token_delay{0};

 private:
  mutable std::mutex mu_;
  std::vector<Result<HttpResponse>> script_;
  std::vector<Call> calls_;
  int token_calls_ = 0;
  int token_status_ = 200;
  std::map<std::string, std::string> token_headers_;
  std::string token_body_;
  bool cancelled_ = false;
};

// Waits (at most 10 s) until `table` exists in the database at `db_path`,
// which must exist already. False on timeout.
bool WaitForTable(const std::string& db_path, const std::string& table);

// Marks the running test case as skipped, for `reason` (printed). The case
// should return right after. Under ctest the entry then reports "Skipped"
// (exit code 77, see main_test.cc) instead of passing with nothing checked.
void Skip(const std::string& reason);
// Whether Skip was called in this process.
bool Skipped();

// Polls `condition` every 10 ms for at most `timeout`.
// Waits (at most `timeout`) until a daemon writing `db` has committed at
// least `pages` pages in all.
bool WaitForPages(const std::string& db, int64_t pages,
                  std::chrono::milliseconds timeout);

// A TCP port of 127.0.0.1 that was free a moment ago (bound to port 0, then
// closed).
int FreePort();

// Checks that `endpoint`'s table in `db` holds exactly the server's records
// and that its cursor row counts them.
void ExpectReplica(const fake::FakeServer& server, const std::string& db,
                   const std::string& endpoint);

// Syncs `config` once (Scheduler kDrain) in process, or fails the test if
// the Replicator cannot be built.
RunReport SyncOnce(const Config& config);

bool WaitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout);

// Waits (polling `db`, at most 30 s, else fails the test) until a
// reconciliation pass of `endpoint` with `reconcile_every` = `every` is due:
// a pass is in progress, or `every` has passed since the last one finished
// (none: since the table's first row was stored).
void WaitUntilReconcileDue(const std::string& db, const std::string& endpoint,
                           std::chrono::milliseconds every);

}  // namespace stsync::test

#endif  // STSYNC_TESTS_TEST_UTIL_H_
