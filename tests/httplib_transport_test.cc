// The real HTTP transport against the fake server on loopback.
#include "api/httplib_transport.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "test_util.h"

namespace stsync {
namespace {

HttpOptions Options() {
  HttpOptions o;
  o.connect_timeout = Millis(2000);
  o.read_timeout = Millis(5000);
  return o;
}

std::string Token(HttplibTransport& t, const fake::FakeServer& server) {
  auto r = t.PostForm(server.BaseUrl() + "/connect/token",
                      {{"grant_type", "client_credentials"},
                       {"client_id", server.options().client_id},
                       {"client_secret", server.options().client_secret}},
                      {});
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  size_t start = r->body.find("fake-access-");
  REQUIRE(start != std::string::npos);
  return r->body.substr(start, r->body.find('"', start) - start);
}

}  // namespace

TEST_CASE(
    "bad tokens get 401 and bad `from` 400, and the server keeps serving") {
  fake::FakeServer server(test::SmallFake({"jobs"}, 5, 5));
  REQUIRE(server.Start().ok());
  HttplibTransport t(Options());
  std::string url = server.BaseUrl() + "/jpm/v2/tenant/1234567/export/jobs";
  HttpHeaders app = {{"ST-App-Key", server.options().app_key}};
  for (int i = 0; i < 20; ++i) {  // more than the server has threads
    auto r = t.Get(url, {{"Authorization", "Bearer not-a-token"}, app[0]});
    REQUIRE(r.ok());
    CHECK(r->status == 401);
  }
  std::string token = Token(t, server);
  HttpHeaders ok = {{"Authorization", "Bearer " + token}, app[0]};
  auto bad_from = t.Get(url + "?from=not-a-date-or-token", ok);
  REQUIRE(bad_from.ok());
  CHECK(bad_from->status == 400);
  auto page = t.Get(url, ok);
  REQUIRE(page.ok());
  CHECK(page->status == 200);
  CHECK(page->Header("content-type").find("application/json") == 0);
  CHECK(page->body.find("\"hasMore\":false") != std::string::npos);
  auto wrong_tenant =
      t.Get(server.BaseUrl() + "/jpm/v2/tenant/999/export/jobs", ok);
  CHECK(wrong_tenant->status == 404);
  auto no_app_key = t.Get(url, {ok[0]});
  CHECK(no_app_key->status == 401);
}

TEST_CASE(
    "the fake's list endpoints: the page size cap, bad parameters, and "
    "active records by default") {
  fake::FakeServer server(test::SmallFake({"zones", "user-roles"}, 30, 10));
  REQUIRE(server.Start().ok());
  server.Mutate("zones", 6, 0);  // every third update deactivates
  HttplibTransport t(Options());
  HttpHeaders ok = {{"Authorization", "Bearer " + Token(t, server)},
                    {"ST-App-Key", server.options().app_key}};
  const std::string zones =
      server.BaseUrl() + "/dispatch/v2/tenant/1234567/zones";
  auto status = [&](const std::string& query) {
    auto r = t.Get(zones + query, ok);
    REQUIRE(r.ok());
    return r->status;
  };
  CHECK(status("?pageSize=5000") == 200);
  CHECK(status("?pageSize=5001") == 400);
  CHECK(status("?page=0") == 400);
  CHECK(status("?modifiedOnOrAfter=yesterday") == 400);
  // business-units/intacct-like caps come from the catalog: 500 there.
  fake::FakeServer intacct(test::SmallFake({"business-units-intacct"}, 3, 3));
  REQUIRE(intacct.Start().ok());
  HttpHeaders ok2 = {{"Authorization", "Bearer " + Token(t, intacct)},
                     {"ST-App-Key", intacct.options().app_key}};
  const std::string intacct_url =
      intacct.BaseUrl() + "/settings/v2/tenant/1234567/business-units/intacct";
  CHECK(t.Get(intacct_url + "?includeTotal=false&pageSize=501", ok2)->status ==
        400);
  CHECK(t.Get(intacct_url + "?includeTotal=false&pageSize=500", ok2)->status ==
        200);
  // A parameter its document requires must be there.
  auto without = t.Get(intacct_url + "?pageSize=500", ok2);
  CHECK(without->status == 400);
  CHECK(without->body.find("includeTotal is required") != std::string::npos);
  // Without active=Any, only active records, as ServiceTitan answers.
  auto count = [&](const std::string& query) {
    auto r = t.Get(zones + "?pageSize=100" + query, ok);
    REQUIRE(r.ok());
    REQUIRE(r->status == 200);
    size_t at = r->body.find("\"totalCount\":");
    REQUIRE(at != std::string::npos);
    return std::stoi(r->body.substr(at + 13));
  };
  CHECK(count("&active=Any") == 30);
  CHECK(count("") == 28);
  CHECK(count("&active=False") == 2);
}

TEST_CASE(
    "concurrent calls each get a connection of their own, and connections are "
    "reused") {
  // A server whose answers wait (at most 5 s) until three requests are in:
  // calls that shared one connection would be sent one after another and
  // never be in at once.
  httplib::Server server;
  std::mutex mu;
  std::condition_variable cv;
  int in = 0;
  std::set<std::string> peers;  // client ports seen
  server.Get("/page", [&](const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(mu);
    ++in;
    peers.insert(std::to_string(req.remote_port));
    cv.notify_all();
    const bool together =
        cv.wait_for(lock, std::chrono::seconds(5), [&] { return in >= 3; });
    res.set_content(together ? "together" : "alone", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  HttplibTransport t(Options());
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/page";
  std::vector<std::string> bodies(3);
  {
    std::vector<std::thread> calls;
    for (int i = 0; i < 3; ++i) {
      calls.emplace_back([&, i] {
        auto r = t.Get(url, {});
        bodies[i] = r.ok() ? r->body : r.status().message();
      });
    }
    for (auto& c : calls) c.join();
  }
  CHECK(bodies == std::vector<std::string>(3, "together"));
  // Three more calls, one at a time, reuse the three connections.
  for (int i = 0; i < 3; ++i) {
    auto r = t.Get(url, {});
    REQUIRE(r.ok());
  }
  server.stop();
  serving.join();
  CHECK(peers.size() == 3);
}

TEST_CASE("a body over max_page_bytes is refused") {
  fake::FakeServer server(test::SmallFake({"jobs"}, 50, 50));
  REQUIRE(server.Start().ok());
  HttpOptions o = Options();
  o.max_page_bytes = 2048;
  HttplibTransport t(o);
  std::string token = Token(t, server);
  auto r = t.Get(server.BaseUrl() + "/jpm/v2/tenant/1234567/export/jobs",
                 {{"Authorization", "Bearer " + token},
                  {"ST-App-Key", server.options().app_key}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kBadResponse);
  CHECK(r.status().message().find("max_page_bytes") != std::string::npos);
}

TEST_CASE(
    "a server that trickles its answer is cut off at http.request_timeout, "
    "though every read is within read_timeout") {
  fake::FakeServer server(test::SmallFake({"jobs"}, 50, 50));
  REQUIRE(server.Start().ok());
  fake::Fault trickle;
  trickle.status = 200;
  trickle.content_type = "application/json";
  trickle.stream_bytes = 1000;  // 100 s at 10 bytes a second
  trickle.stream_piece = 1;
  trickle.stream_piece_ms = 100;
  server.AddFault(trickle);
  HttpOptions o = Options();
  o.read_timeout = Millis(5000);
  o.request_timeout = Millis(1000);
  HttplibTransport t(o);
  std::string token = Token(t, server);
  const auto started = std::chrono::steady_clock::now();
  auto r = t.Get(server.BaseUrl() + "/jpm/v2/tenant/1234567/export/jobs",
                 {{"Authorization", "Bearer " + token},
                  {"ST-App-Key", server.options().app_key}});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kNetwork);
  CHECK(r.status().message().find("http.request_timeout (1s)") !=
        std::string::npos);
  CHECK(seconds < 3.0);
  // The next request gets a new connection and its answer.
  auto next = t.Get(server.BaseUrl() + "/jpm/v2/tenant/1234567/export/jobs",
                    {{"Authorization", "Bearer " + token},
                     {"ST-App-Key", server.options().app_key}});
  REQUIRE(next.ok());
  CHECK(next->status == 200);
}

TEST_CASE("a token answer over 64 KiB is refused while it streams") {
  fake::FakeServer server(test::SmallFake({"jobs"}, 5, 5));
  REQUIRE(server.Start().ok());
  HttplibTransport t(Options());
  for (bool chunked : {true, false}) {
    INFO("chunked: ", chunked);
    fake::Fault big;
    big.target = fake::Fault::Target::kToken;
    big.status = 200;
    big.content_type = "application/json";
    if (chunked) {
      big.stream_bytes = size_t{64} << 20;
    } else {
      big.body = std::string(HttplibTransport::kMaxTokenBytes + 1, 'x');
    }
    server.AddFault(big);
    auto r = t.PostForm(server.BaseUrl() + "/connect/token",
                        {{"grant_type", "client_credentials"}}, {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kBadResponse);
    CHECK(r.status().message().find("64 KiB") != std::string::npos);
  }
  // A normal answer still goes through.
  CHECK_FALSE(Token(t, server).empty());
}

TEST_CASE("connection failures and cancellation are transport errors") {
  int port;
  {
    fake::FakeServer server(test::SmallFake({"jobs"}, 1, 1));
    REQUIRE(server.Start().ok());
    port = server.port();
  }  // now nothing listens there
  HttplibTransport t(Options());
  auto refused = t.Get("http://127.0.0.1:" + std::to_string(port) + "/x", {});
  CHECK(refused.status().code() == Status::Code::kNetwork);
  CHECK(refused.status().message().find("127.0.0.1") != std::string::npos);

  fake::FakeServer hung(test::SmallFake({"jobs"}, 1, 1));
  fake::Fault hang;
  hang.status = 0;
  hang.delay_ms = 30'000;
  hung.AddFault(hang);
  REQUIRE(hung.Start().ok());
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    t.Cancel();
  });
  auto started = std::chrono::steady_clock::now();
  auto r = t.Get(hung.BaseUrl() + "/jpm/v2/tenant/1234567/export/jobs", {});
  canceller.join();
  CHECK(r.status().code() == Status::Code::kCancelled);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
  CHECK(t.Get(hung.BaseUrl() + "/", {}).status().code() ==
        Status::Code::kCancelled);
}

TEST_CASE(
    "TLS certificates are verified by default, ca_bundle trusts a private CA") {
  test::TempDir dir;
  std::string cert = dir.File("cert.pem"), key = dir.File("key.pem");
  auto made =
      test::Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                 "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj",
                 "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
  REQUIRE(made.exit_code == 0);
  fake::FakeOptions o = test::SmallFake({"jobs"}, 1, 1);
  o.tls_cert = cert;
  o.tls_key = key;
  fake::FakeServer server(o);
  REQUIRE(server.Start().ok());
  REQUIRE(server.BaseUrl().rfind("https://", 0) == 0);
  const std::string url = server.BaseUrl() + "/connect/token";
  const HttpHeaders form = {{"grant_type", "client_credentials"},
                            {"client_id", o.client_id},
                            {"client_secret", o.client_secret}};

  HttplibTransport strict(Options());  // system CAs only
  auto refused = strict.PostForm(url, form, {});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Status::Code::kNetwork);
  CHECK(refused.status().message().find("SSL") != std::string::npos);

  HttpOptions trusting = Options();
  trusting.ca_bundle = cert;
  HttplibTransport t(trusting);
  auto ok = t.PostForm(url, form, {});
  INFO(ok.status().message());
  REQUIRE(ok.ok());
  CHECK(ok->status == 200);
}

}  // namespace stsync
