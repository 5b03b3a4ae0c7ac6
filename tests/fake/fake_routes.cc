// The fake's HTTP routes: the token endpoint, the export feeds and the
// admin routes that tests and the benchmark drive.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

#include "fake/fake_server.h"

namespace stsync::fake {
namespace {

// A valid JSON page with a wrong envelope: `hasMore` missing, `data` not an
// array, or a record without its key, by `variant`.
std::string MangleEnvelope(const std::string& page, int variant) {
  switch (variant % 3) {
    case 0: {
      std::string out = page;
      out.replace(out.find("\"hasMore\""), 9, "\"hasmore\"");
      return out;
    }
    case 1:
      return page.substr(0, page.find("\"data\":[")) + "\"data\":{}}";
    default:
      return page.substr(0, page.size() - 2) +
             (page[page.size() - 3] == '[' ? "" : ",") + "{\"keyless\":true}]}";
  }
}

// The route regex for an endpoint path: `{tenant}` captures digits, and
// characters special to regular expressions are escaped.
std::string PathPattern(const std::string& path) {
  const std::string tenant = "{tenant}";
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path.compare(i, tenant.size(), tenant) == 0) {
      out += "([0-9]+)";
      i += tenant.size() - 1;
    } else {
      if (std::string_view(".-+*?()[]{}|^$\\").find(path[i]) !=
          std::string_view::npos) {
        out += '\\';
      }
      out += path[i];
    }
  }
  return out;
}

}  // namespace

void FakeServer::Lag() {
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(options_.latency_ms);
  while (!stopping_ && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Sleeps for the fault's delay; true if the fault then answers itself.
bool FakeServer::ApplyFault(const Fault& f, const httplib::Request& req,
                            httplib::Response& res) {
  auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(f.delay_ms);
  while (!stopping_ && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (f.status == 0) return false;
  res.status = f.status;
  if (!f.retry_after.empty()) res.set_header("Retry-After", f.retry_after);
  std::string body = f.body;
  for (const auto& [mark, value] :
       {std::pair<std::string, std::string>{
            "{authorization}", req.get_header_value("Authorization")},
        {"{app-key}", req.get_header_value("ST-App-Key")},
        {"{request-body}", req.body}}) {
    for (size_t at = body.find(mark); at != std::string::npos;
         at = body.find(mark, at + value.size())) {
      body.replace(at, mark.size(), value);
    }
  }
  if (f.stream_bytes > 0) {
    res.set_chunked_content_provider(
        f.content_type, [this, f](size_t offset, httplib::DataSink& sink) {
          if (stopping_) return false;
          if (offset > 0 && f.stream_piece_ms > 0) {
            std::this_thread::sleep_for(
                std::chrono::milliseconds(f.stream_piece_ms));
          }
          const std::string piece(
              std::min(f.stream_piece, f.stream_bytes - offset), 'x');
          if (!sink.write(piece.data(), piece.size())) return false;
          if (offset + piece.size() >= f.stream_bytes) sink.done();
          return true;
        });
    return true;
  }
  res.set_content(body, f.content_type.c_str());
  return true;
}

void FakeServer::AddTokenRoute() {
  server_->Post("/connect/token", [this](const httplib::Request& req,
                                         httplib::Response& res) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++token_requests_;
    }
    Lag();
    Fault f;
    if (TakeFault(Fault::Target::kToken, req.path, &f) &&
        ApplyFault(f, req, res)) {
      return;
    }
    DrawFault(Fault::Target::kToken, &f);
    if (ApplyFault(f, req, res)) return;
    if (req.get_param_value("grant_type") != "client_credentials") {
      res.status = 400;
      res.set_content(R"({"error":"unsupported_grant_type"})",
                      "application/json");
      return;
    }
    if (req.get_param_value("client_id") != options_.client_id ||
        req.get_param_value("client_secret") != options_.client_secret) {
      res.status = 400;
      res.set_content(R"({"error":"invalid_client"})", "application/json");
      return;
    }
    std::string token;
    int lifetime;
    {
      std::lock_guard<std::mutex> lock(mu_);
      lifetime = token_lifetime_seconds_;
      char buf[64];
      std::snprintf(buf, sizeof buf, "fake-access-%lld-%016llx",
                    static_cast<long long>(++token_counter_),
                    static_cast<unsigned long long>(rng_()));
      token = buf;
      tokens_[token] =
          std::chrono::steady_clock::now() + std::chrono::seconds(lifetime);
    }
    res.set_content("{\"access_token\":\"" + token +
                        "\",\"expires_in\":" + std::to_string(lifetime) +
                        ",\"token_type\":\"Bearer\",\"scope\":\"api\"}",
                    "application/json");
  });
}

void FakeServer::AddAdminRoutes() {
  server_->Get("/admin/faults", [this](const httplib::Request&,
                                       httplib::Response& res) {
    std::string counts;
    for (const auto& [kind, n] : FaultCounts()) {
      counts += (counts.empty() ? "" : ",") + ("\"" + kind + "\":") +
                std::to_string(n);
    }
    std::string rates;
    {
      std::lock_guard<std::mutex> lock(mu_);
      rates = rates_.ToString();
    }
    res.set_content("{\"rates\":\"" + rates + "\",\"counts\":{" + counts + "}}",
                    "application/json");
  });
  server_->Get("/admin/requests", [this](const httplib::Request&,
                                         httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    res.set_content("{\"export\":" + std::to_string(requests_.size()) +
                        ",\"token\":" + std::to_string(token_requests_) + "}",
                    "application/json");
  });
  server_->Post("/admin/faults",
                [this](const httplib::Request& req, httplib::Response& res) {
                  FaultRates rates;
                  std::string error;
                  if (!rates.Parse(req.body, &error)) {
                    res.status = 400;
                    res.set_content(error + "\n", "text/plain");
                    return;
                  }
                  SetFaultRates(rates);
                  res.set_content(rates.ToString() + "\n", "text/plain");
                });
  server_->Post("/admin/mutate", [this](const httplib::Request& req,
                                        httplib::Response& res) {
    std::string endpoint = req.get_param_value("endpoint");
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!feeds_.count(endpoint)) {
        res.status = 404;
        res.set_content("unknown endpoint\n", "text/plain");
        return;
      }
    }
    Mutate(endpoint, std::atoi(req.get_param_value("updates").c_str()),
           std::atoi(req.get_param_value("inserts").c_str()));
    res.set_content("ok\n", "text/plain");
  });
  server_->Post("/admin/delete", [this](const httplib::Request& req,
                                        httplib::Response& res) {
    const std::string endpoint = req.get_param_value("endpoint");
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!feeds_.count(endpoint)) {
        res.status = 404;
        res.set_content("unknown endpoint\n", "text/plain");
        return;
      }
    }
    const size_t n =
        Delete(endpoint, std::atoi(req.get_param_value("count").c_str()))
            .size();
    res.set_content("deleted " + std::to_string(n) + "\n", "text/plain");
  });
  server_->Post("/admin/token-lifetime",
                [this](const httplib::Request& req, httplib::Response& res) {
                  SetTokenLifetime(std::max(
                      1, std::atoi(req.get_param_value("seconds").c_str())));
                  res.set_content("ok\n", "text/plain");
                });
  server_->Post("/admin/expire-cursors",
                [this](const httplib::Request&, httplib::Response& res) {
                  ExpireCursors();
                  res.set_content("ok\n", "text/plain");
                });
  server_->Post("/admin/revoke-tokens",
                [this](const httplib::Request&, httplib::Response& res) {
                  RevokeTokens();
                  res.set_content("ok\n", "text/plain");
                });
}

void FakeServer::AddExportRoutes() {
  for (auto& [name, feed_ref] : feeds_) {
    const std::string feed_name = name;
    const bool is_list = feed_ref.endpoint.kind == EndpointKind::kList;
    server_->Get(
        PathPattern(feed_ref.endpoint.path),
        [this, feed_name, is_list](const httplib::Request& req,
                                   httplib::Response& res) {
          ++requests_started_;
          RequestRecord rec;
          rec.path = req.path;
          rec.from = req.get_param_value("from");
          rec.params.insert(req.params.begin(), req.params.end());
          rec.recent = req.get_param_value("includeRecentChanges") == "true";
          rec.at = std::chrono::steady_clock::now();
          auto finish = [&] {
            rec.status = res.status;
            Record(rec);
          };
          Lag();
          Fault f;
          if (TakeFault(Fault::Target::kExport, req.path, &f) &&
              ApplyFault(f, req, res)) {
            return finish();
          }
          auto json_error = [&](int status, const std::string& title) {
            res.status = status;
            res.set_content("{\"type\":\"error\",\"title\":\"" + title +
                                "\",\"status\":" + std::to_string(status) + "}",
                            "application/json");
          };
          const std::string random = DrawFault(Fault::Target::kExport, &f);
          if (ApplyFault(f, req, res)) return finish();
          if (!TokenValid(req.get_header_value("Authorization"))) {
            res.status = 401;
            res.set_header("WWW-Authenticate",
                           "Bearer error=\"invalid_token\"");
            return finish();
          }
          if (req.get_header_value("ST-App-Key") != options_.app_key) {
            json_error(401, "App key is missing or invalid");
            return finish();
          }
          if (req.matches[1] != options_.tenant &&
              std::find(options_.extra_tenants.begin(),
                        options_.extra_tenants.end(),
                        req.matches[1]) == options_.extra_tenants.end()) {
            json_error(404, "Tenant not found");
            return finish();
          }
          if (is_list) {
            ServeList(feed_name, req, res, &rec.records);
            return finish();
          }
          auto page = PageAfter(feed_name, rec.from, rec.recent);
          if (!page) {
            json_error(400, "Invalid 'from' value");
            return finish();
          }
          rec.records = page->records;
          res.status = 200;
          const char* type = "application/json; charset=utf-8";
          if (random.empty()) {
            // The common case: send the cached bytes without a copy.
            res.set_content_provider(
                page->body.size(), type,
                [page](size_t offset, size_t, httplib::DataSink& sink) {
                  return sink.write(page->body.data() + offset,
                                    page->body.size() - offset);
                });
            return finish();
          }
          std::string body = page->body;
          if (random == "truncate" || random == "reset") {
            // Promise the whole body, send half (or nothing), then close.
            size_t send = random == "truncate" ? body.size() / 2 : 0;
            res.set_content_provider(
                body.size(), type,
                [body, send](size_t, size_t, httplib::DataSink& sink) {
                  if (send > 0) sink.write(body.data(), send);
                  return false;
                });
            rec.records = 0;
            return finish();
          }
          if (random == "broken_json") {
            body.resize(body.size() / 2);
            rec.records = 0;
          } else if (random == "bad_envelope") {
            body = MangleEnvelope(body, ++envelope_variant_);
            rec.records = 0;
          }
          res.set_content(body, type);
          finish();
        });
  }
}

}  // namespace stsync::fake
