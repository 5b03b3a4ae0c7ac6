#include "test_postgres.h"

#include <doctest/doctest.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "test_util.h"

namespace stsync::test {
namespace {

// The newest server installed: /usr/lib/postgresql/<version>/bin.
std::string ServerBinaries() {
  std::string best;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string bin = entry.path().string() + "/bin";
    if (access((bin + "/initdb").c_str(), X_OK) == 0 && bin > best) best = bin;
  }
  return best;
}

bool Required() {
  const char* v = std::getenv("STSYNC_REQUIRE_POSTGRES");
  return v && std::string(v) == "1";
}

void GiveUp(const std::string& why) {
  if (Required()) {
    FAIL("PostgreSQL is required here (STSYNC_REQUIRE_POSTGRES=1): " << why);
  } else {
    Skip("no PostgreSQL server for the test: " + why +
         " (scripts/install-deps.sh installs it)");
  }
}

}  // namespace

std::unique_ptr<TestPostgres> TestPostgres::StartOrSkip() {
  std::unique_ptr<TestPostgres> pg(new TestPostgres());
  auto give_up = [](const std::string& why) {
    GiveUp(why);
    return nullptr;
  };
  pg->bin_ = ServerBinaries();
  if (pg->bin_.empty()) return give_up("no /usr/lib/postgresql/*/bin/initdb");
  char tmpl[] = "/tmp/stsync-pg-XXXXXX";
  if (!mkdtemp(tmpl)) return give_up("cannot make a temporary directory");
  pg->dir_ = tmpl;
  // initdb refuses to run as root: the server then belongs to postgres.
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (!pw) return give_up("running as root and there is no postgres user");
    if (chown(pg->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return give_up("cannot give " + pg->dir_ + " to postgres");
    }
    pg->as_postgres_ = true;
  }
  std::string out;
  if (pg->RunAsOwner(
          {pg->bin_ + "/initdb", "-D", pg->dir_ + "/data", "-U", "postgres",
           "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"},
          &out) != 0) {
    return give_up("initdb failed: " + out);
  }
  pg->Start();
  return pg;
}

std::string TestPostgres::StartBouncerOrSkip() {
  const std::string bouncer = "/usr/sbin/pgbouncer";
  if (access(bouncer.c_str(), X_OK) != 0) {
    GiveUp("no " + bouncer + " (package pgbouncer)");
    return "";
  }
  const std::string dir = dir_ + "/bouncer";
  std::string out;
  RunAsOwner({"mkdir", "-p", dir}, &out);
  WriteFile(dir + "/users.txt", "\"postgres\" \"\"\n");
  WriteFile(dir + "/pgbouncer.ini",
            "[databases]\npostgres = host=" + dir_ +
                " user=postgres dbname=postgres\n"
                "[pgbouncer]\nlisten_addr =\nlisten_port = 6432\n"
                "unix_socket_dir = " +
                dir + "\nauth_type = trust\nauth_file = " + dir +
                "/users.txt\npool_mode = transaction\n"
                "default_pool_size = 1\nmax_client_conn = 50\n"
                "logfile = " +
                dir + "/log\npidfile = " + dir + "/pid\n");
  if (RunAsOwner({bouncer, "-d", dir + "/pgbouncer.ini"}, &out) != 0) {
    GiveUp("pgbouncer did not start: " + out);
    return "";
  }
  bouncer_ = true;
  REQUIRE(WaitUntil([&] { return access((dir + "/pid").c_str(), F_OK) == 0; },
                    std::chrono::seconds(10)));
  return "postgresql:///postgres?host=" + dir + "&port=6432&user=postgres";
}

TestPostgres::~TestPostgres() {
  std::string out;
  if (bouncer_) {
    RunAsOwner({"sh", "-c", "kill $(cat " + dir_ + "/bouncer/pid)"}, &out);
  }
  RunAsOwner(
      {bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"},
      &out);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

int TestPostgres::RunAsOwner(std::vector<std::string> argv,
                             std::string* out) const {
  if (as_postgres_) {
    argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  }
  ProcessResult r = Run(argv);
  *out = r.out + r.err;
  return r.exit_code;
}

void TestPostgres::Start() {
  std::string out;
  // A unix socket in dir_ only; no durability needed for tests.
  const int rc =
      RunAsOwner({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-l",
                  dir_ + "/server.log", "-w", "-o",
                  "-k " + dir_ +
                      " -c listen_addresses= -c fsync=off "
                      "-c full_page_writes=off -c max_connections=40",
                  "start"},
                 &out);
  INFO(out);
  REQUIRE(rc == 0);
}

void TestPostgres::Stop() {
  std::string out;
  const int rc = RunAsOwner(
      {bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"},
      &out);
  INFO(out);
  REQUIRE(rc == 0);
}

std::string TestPostgres::Url(const std::string& db) const {
  return "postgresql:///" + db + "?host=" + dir_ + "&user=postgres";
}

std::string TestPostgres::Psql(const std::string& sql) const {
  ProcessResult r = Run({bin_ + "/psql", "-X", "-q", "-A", "-t", "-F", "|",
                         "-v", "ON_ERROR_STOP=1", "-d", Url(), "-c", sql});
  INFO(sql, ": ", r.err);
  REQUIRE(r.exit_code == 0);
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::vector<std::string> TestPostgres::SortedRows(
    const std::string& sql) const {
  std::vector<std::string> lines;
  std::istringstream in(Psql(sql));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

int64_t TestPostgres::Int(const std::string& sql) const {
  const std::string out = Psql(sql);
  INFO(sql, " gave '", out, "'");
  REQUIRE(!out.empty());
  return std::stoll(out);
}

}  // namespace stsync::test
