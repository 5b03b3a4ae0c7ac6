// The service manager's view: the watchdog fed only by live scheduler loops,
// the loop's heartbeat, and sd_notify messages from the real binary on a
// notify socket of the test's own.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "engine/replicator.h"
#include "fake/fake_server.h"
#include "fake_clock.h"
#include "ops/watchdog.h"
#include "test_util.h"

namespace stsync {

TEST_CASE("the watchdog pings only while every loop beats") {
  FakeClock clock;
  int pings = 0;
  Watchdog w(
      2, std::chrono::seconds(8), [&] { ++pings; }, &clock);
  CHECK(w.beat_every() == std::chrono::seconds(2));
  w.Beat(0);
  CHECK(pings == 0);  // loop 1 has not beaten yet
  w.Beat(1);
  CHECK(pings == 1);
  // Both beat every 2 s: a ping every 2 s at most.
  for (int i = 0; i < 4; ++i) {
    clock.Advance(std::chrono::seconds(1));
    w.Beat(0);
    w.Beat(1);
  }
  CHECK(pings == 3);
  // Loop 1 hangs: within 4 s the pings stop, whatever loop 0 does.
  const int before = pings;
  for (int i = 0; i < 20; ++i) {
    clock.Advance(std::chrono::seconds(1));
    w.Beat(0);
  }
  CHECK(pings - before <= 2);
  const int stuck = pings;
  for (int i = 0; i < 20; ++i) {
    clock.Advance(std::chrono::seconds(1));
    w.Beat(0);
  }
  CHECK(pings == stuck);
  w.Beat(1);  // back
  CHECK(pings == stuck + 1);
}

TEST_CASE(
    "the scheduler loop beats at every turn and wakes at least every "
    "heartbeat_every while idle") {
  fake::FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const Config config = test::MustParseConfig(test::FakeConfigYaml(
      server, dir.File("beat.db"), "[{name: jobs, interval: 1h}]"));
  FakeClock clock;
  std::vector<Millis> waits;
  ReplicatorSeams seams;
  seams.clock = &clock;
  int beats = 0;
  seams.heartbeat = [&] { ++beats; };
  seams.heartbeat_every = std::chrono::seconds(30);
  auto r = Replicator::Create(config, std::move(seams));
  REQUIRE(r.ok());
  Replicator* replicator = r->get();
  clock.set_on_wait([&](Millis d) {
    waits.push_back(d);
    if (waits.size() == 10) replicator->Stop();
  });
  (*r)->Run(Scheduler::Mode::kForever);
  REQUIRE(waits.size() == 10);
  for (Millis d : waits) CHECK(d <= std::chrono::seconds(30));
  // Three pages, then a beat per wait.
  CHECK(beats >= 3 + 9);
}

namespace {

// A datagram socket as systemd's notify socket, at a path in `dir`.
struct NotifySocket {
  explicit NotifySocket(const std::string& path) : path(path) {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::strcpy(addr.sun_path, path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{0, 100'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd); }
  // Messages received until `until` returns true or `timeout` passes.
  std::vector<std::string> Receive(
      const std::function<bool(const std::vector<std::string>&)>& until,
      std::chrono::seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end && !until(messages)) {
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) messages.emplace_back(buf, static_cast<size_t>(n));
    }
    return messages;
  }
  std::string path;
  int fd = -1;
  std::vector<std::string> messages;
};

int Count(const std::vector<std::string>& messages, const std::string& prefix) {
  int n = 0;
  for (const auto& m : messages) n += m.rfind(prefix, 0) == 0;
  return n;
}

}  // namespace

TEST_CASE(
    "under systemd, run says READY=1, keeps STATUS= current, feeds the "
    "watchdog from its loop, and says STOPPING=1") {
  fake::FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string cfg = dir.File("notify.yaml");
  test::WriteFile(cfg, test::FakeConfigYaml(server, dir.File("notify.db"),
                                            "[{name: jobs, interval: 1h}]"));
  NotifySocket socket(dir.File("notify.sock"));
  setenv("NOTIFY_SOCKET", socket.path.c_str(), 1);
  setenv("WATCHDOG_USEC", "400000", 1);  // 0.4 s: pings every 0.1-0.2 s
  test::Process run({STSYNC_BIN, "run", "-c", cfg});
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  auto got = socket.Receive(
      [](const std::vector<std::string>& m) {
        return Count(m, "WATCHDOG=1") >= 5 && Count(m, "STATUS=3 pages") >= 1;
      },
      std::chrono::seconds(10));
  INFO(run.ErrSoFar());
  REQUIRE(!got.empty());
  CHECK(got[0] == "READY=1");
  CHECK(Count(got, "STATUS=syncing 1 tenant(s)") == 1);
  CHECK(Count(got, "STATUS=3 pages, 30 records since start; last page: jobs") ==
        1);
  // Idle for an hour's interval, yet the loop wakes to feed the watchdog.
  CHECK(Count(got, "WATCHDOG=1") >= 5);
  run.Signal(SIGTERM);
  CHECK(run.Wait(std::chrono::seconds(10)).exit_code == 0);
  got = socket.Receive(
      [](const std::vector<std::string>& m) {
        return Count(m, "STOPPING=1") == 1;
      },
      std::chrono::seconds(5));
  CHECK(Count(got, "STOPPING=1") == 1);
}

}  // namespace stsync
