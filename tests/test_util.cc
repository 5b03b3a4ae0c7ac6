#include "test_util.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/page_parser.h"
#include "config/catalog.h"
#include "engine/replicator.h"
#include "sink/migrations.h"

namespace stsync::test {

TempDir::TempDir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "stsync-test-XXXXXX").string();
  char* p = mkdtemp(tmpl.data());
  REQUIRE(p != nullptr);
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out.good());
  out << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Process::Process(const std::vector<std::string>& argv) {
  static int counter = 0;
  std::string base = (std::filesystem::temp_directory_path() /
                      ("stsync-proc-" + std::to_string(getpid()) + "-" +
                       std::to_string(++counter)))
                         .string();
  out_path_ = base + ".out";
  err_path_ = base + ".err";
  started_ = std::chrono::steady_clock::now();
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, 1);
    dup2(err, 2);
    // The test runner may block signals; the child must not inherit that.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

Process::~Process() {
  if (!waited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::remove(out_path_.c_str());
  std::remove(err_path_.c_str());
}

void Process::Signal(int sig) { kill(pid_, sig); }

std::string Process::ErrSoFar() const { return ReadFile(err_path_); }

ProcessResult Process::Wait(std::chrono::milliseconds timeout) {
  ProcessResult r;
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    rusage usage{};
    pid_t done = wait4(pid_, &status, WNOHANG, &usage);
    if (done == pid_) {
      r.max_rss_kb = usage.ru_maxrss;
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      FAIL_CHECK("process did not exit within the timeout; killing it");
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  waited_ = true;
  r.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_)
          .count();
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = ReadFile(out_path_);
  r.err = ReadFile(err_path_);
  return r;
}

ProcessResult Run(const std::vector<std::string>& argv) {
  Process p(argv);
  return p.Wait(std::chrono::seconds(60));
}

std::string Replace(std::string text, const std::string& from,
                    const std::string& to) {
  size_t pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  return text.replace(pos, from.size(), to);
}

std::string FakeConfigYaml(const fake::FakeServer& server,
                           const std::string& db_path,
                           const std::string& endpoints,
                           const std::string& extra) {
  const auto& o = server.options();
  return "servicetitan:\n"
         "  tenant: " +
         o.tenant +
         "\n"
         "  client_id: " +
         o.client_id +
         "\n"
         "  client_secret: " +
         o.client_secret +
         "\n"
         "  app_key: " +
         o.app_key +
         "\n"
         "  auth_url: " +
         server.BaseUrl() +
         "/connect/token\n"
         "  api_url: " +
         server.BaseUrl() +
         "\n"
         "database:\n"
         "  path: " +
         db_path +
         "\n"
         "defaults:\n"
         "  interval: 100ms\n"
         // The fake's records span hours of 2024, its feeds a page or a few:
         // split first syncs would mostly ask for empty ranges. The tests of
         // splitting turn it on, with a fake whose records span years.
         "  split_first_sync: false\n"
         "retry:\n"
         "  initial_backoff: 10ms\n"
         "  max_backoff: 200ms\n"
         "  max_attempts: 5\n"
         "http:\n"
         "  connect_timeout: 2s\n"
         "  read_timeout: 5s\n"
         "endpoints: " +
         endpoints + "\n" + extra;
}

Config MustParseConfig(const std::string& yaml) {
  auto c = ParseConfig(yaml, "test.yaml",
                       [](const std::string&) { return std::nullopt; });
  INFO(c.status().message());
  REQUIRE(c.ok());
  REQUIRE(c->tenants.size() == 1);
  return c->tenants[0];
}

fake::FakeOptions SmallFake(std::vector<std::string> endpoints, int records,
                            int page_size) {
  fake::FakeOptions o;
  o.endpoints = std::move(endpoints);
  o.records_per_endpoint = records;
  o.page_size = page_size;
  return o;
}

void WriteSchema2Database(const std::string& path, int rows, int pad_bytes) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string sql =
      "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; BEGIN;\n" +
      std::string(EmbeddedMigrations().at(0).sql) + "\n" +
      EmbeddedMigrations().at(1).sql +
      "\nPRAGMA user_version = 2;\n"
      "CREATE TABLE IF NOT EXISTS \"jobs\" (\n"
      "  \"id\" INTEGER PRIMARY KEY,\n"
      "  modified_on TEXT,\n  active INTEGER,\n  data TEXT NOT NULL,\n"
      "  first_seen_at TEXT NOT NULL,\n  synced_at TEXT NOT NULL\n);\n"
      "CREATE INDEX IF NOT EXISTS \"jobs_modified_on\" ON \"jobs\" "
      "(modified_on);\n"
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
      "WHERE i < " +
      std::to_string(rows) +
      ") INSERT INTO jobs SELECT 1000000000 + i, "
      "'2024-01-01T00:00:00.' || printf('%07d', i) || 'Z', i % 2, "
      "'{\"id\":' || (1000000000 + i) || ',\"pad\":\"' || "
      "hex(randomblob(" +
      std::to_string(pad_bytes / 2) +
      ")) || '\"}', '2024-02-01T00:00:00.0000000Z', "
      "'2024-02-01T00:00:00.0000000Z' FROM n;\nCOMMIT;";
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO(std::string(err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

namespace {

template <typename F>
void WithQuery(const std::string& db_path, const std::string& sql, F&& on_row) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY,
                          nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  INFO(sql, ": ", sqlite3_errmsg(db));
  REQUIRE(rc == SQLITE_OK);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) on_row(s);
  CHECK(rc == SQLITE_DONE);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

}  // namespace

void Exec(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO(sql, ": ", err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

std::vector<std::string> TableData(const std::string& db_path,
                                   const std::string& table) {
  std::vector<std::string> rows;
  WithQuery(db_path, "SELECT data FROM \"" + table + "\"",
            [&](sqlite3_stmt* s) {
              rows.emplace_back(
                  reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                  sqlite3_column_bytes(s, 0));
            });
  std::sort(rows.begin(), rows.end());
  return rows;
}

int64_t QueryInt(const std::string& db_path, const std::string& sql) {
  int64_t v = -1;
  WithQuery(db_path, sql,
            [&](sqlite3_stmt* s) { v = sqlite3_column_int64(s, 0); });
  return v;
}

std::string QueryText(const std::string& db_path, const std::string& sql) {
  std::string v;
  WithQuery(db_path, sql, [&](sqlite3_stmt* s) {
    const unsigned char* t = sqlite3_column_text(s, 0);
    v = t ? reinterpret_cast<const char*>(t) : "";
  });
  return v;
}

std::vector<std::vector<std::string>> QueryRows(const std::string& db_path,
                                                const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  WithQuery(db_path, sql, [&](sqlite3_stmt* s) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(s); ++i) {
      const unsigned char* t = sqlite3_column_text(s, i);
      row.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    rows.push_back(std::move(row));
  });
  return rows;
}

void ScriptedTransport::Push(int status, std::string body,
                             std::map<std::string, std::string> headers) {
  std::lock_guard<std::mutex> lock(mu_);
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  script_.push_back(std::move(r));
}

void ScriptedTransport::PushError(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  script_.emplace_back(std::move(status));
}

void ScriptedTransport::SetTokenResponse(
    int status, std::string body, std::map<std::string, std::string> headers) {
  std::lock_guard<std::mutex> lock(mu_);
  token_status_ = status;
  token_headers_ = std::move(headers);
  token_body_ = std::move(body);
}

Result<HttpResponse> ScriptedTransport::Get(const std::string& url,
                                            const HttpHeaders& headers) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.push_back({"GET", url, headers, {}});
  if (cancelled_) return Status::Cancelled();
  if (script_.empty()) return Status::Network("script exhausted");
  Result<HttpResponse> r = std::move(script_.front());
  script_.erase(script_.begin());
  return r;
}

Result<HttpResponse> ScriptedTransport::PostForm(const std::string& url,
                                                 const HttpHeaders& form,
                                                 const HttpHeaders& headers) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back({"POST", url, headers, form});
    ++token_calls_;
    delay = token_delay;
  }
  std::this_thread::sleep_for(delay);
  std::lock_guard<std::mutex> lock(mu_);
  HttpResponse r;
  r.status = token_status_;
  r.headers = token_headers_;
  r.body = token_body_.empty()
               ? R"({"access_token":"tok-)" + std::to_string(token_calls_) +
                     R"(","expires_in":900,"token_type":"Bearer"})"
               : token_body_;
  return r;
}

std::vector<ScriptedTransport::Call> ScriptedTransport::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

int ScriptedTransport::token_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return token_calls_;
}

bool WaitForTable(const std::string& db_path, const std::string& table) {
  return WaitUntil(
      [&] {
        return QueryInt(db_path,
                        "SELECT count(*) FROM sqlite_master WHERE name = '" +
                            table + "'") == 1;
      },
      std::chrono::seconds(10));
}

namespace {
std::atomic<bool> skipped{false};
}  // namespace

void Skip(const std::string& reason) {
  std::fprintf(stderr, "SKIPPED: %s\n", reason.c_str());
  skipped = true;
}

bool Skipped() { return skipped; }

bool WaitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

void WaitUntilReconcileDue(const std::string& db, const std::string& endpoint,
                           std::chrono::milliseconds every) {
  const Endpoint* e = FindEndpoint(endpoint);
  REQUIRE(e);
  // Seconds since the pass's reference time; a pass in progress is due now.
  const std::string since =
      "SELECT coalesce((SELECT 1e9 FROM _stsync_reconcile WHERE endpoint = '" +
      endpoint +
      "' AND pass_started_at IS NOT NULL), (julianday('now') - "
      "julianday(coalesce((SELECT last_finished_at FROM _stsync_reconcile "
      "WHERE endpoint = '" +
      endpoint + "'), (SELECT min(first_seen_at) FROM \"" + e->TableName() +
      "\"))))"
      " * 86400 * 1000)";
  const bool due = WaitUntil(
      [&] {
        return QueryInt(db, "SELECT CAST((" + since + ") AS INTEGER)") >
               every.count();
      },
      std::chrono::seconds(30));
  REQUIRE(due);
}

}  // namespace stsync::test

namespace stsync::test {

bool WaitForPages(const std::string& db, int64_t pages,
                  std::chrono::milliseconds timeout) {
  return WaitUntil(
      [&] {
        // The file exists a moment before its first migration commits.
        return std::filesystem::exists(db) &&
               QueryInt(db,
                        "SELECT count(*) FROM sqlite_master WHERE name = "
                        "'_stsync_cursors'") == 1 &&
               QueryInt(db,
                        "SELECT coalesce(sum(pages), 0) FROM "
                        "_stsync_cursors") >= pages;
      },
      timeout);
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok =
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  REQUIRE(ok);
  return ntohs(addr.sin_port);
}

void ExpectReplica(const fake::FakeServer& server, const std::string& db,
                   const std::string& endpoint) {
  const Endpoint* e = FindEndpoint(endpoint);
  std::string table = e ? e->TableName() : endpoint;
  auto truth = server.TruthRows(endpoint);
  auto rows = TableData(db, table);
  INFO(endpoint, ": ", rows.size(), " rows, truth has ", truth.size());
  REQUIRE(!truth.empty());
  CHECK(rows == truth);
  // The cursor row's count matches the table.
  CHECK(
      QueryInt(db, "SELECT row_count FROM _stsync_cursors WHERE endpoint = '" +
                       endpoint + "'") ==
      QueryInt(db, "SELECT count(*) FROM \"" + table + "\""));
}

Batch RecordsPage(const std::string& records, const std::string& token,
                  bool has_more, const Endpoint* e) {
  auto p = ParseExportPage(
      R"({"hasMore":)" + std::string(has_more ? "true" : "false") +
          R"(,"continueFrom":")" + token + R"(","data":[)" + records + "]}",
      e ? *e : *FindEndpoint("jobs"));
  REQUIRE(p.ok());
  return std::move(p).value();
}

Batch MakePage(const std::vector<int>& ids, const std::string& ts,
               const std::string& token, bool has_more,
               const std::string& extra) {
  std::string data;
  for (int id : ids) {
    if (!data.empty()) data += ",";
    data += R"({"id":)" + std::to_string(id) + R"(,"modifiedOn":")" + ts +
            R"(","active":true)" + extra + "}";
  }
  return RecordsPage(data, token, has_more);
}

RunReport SyncOnce(const Config& config) {
  auto r = Replicator::Create(config);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return (*r)->Run(Scheduler::Mode::kDrain);
}

}  // namespace stsync::test
