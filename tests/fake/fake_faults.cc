// The fake's fault injection: scripted faults (AddFault) and random ones
// at configured rates (SetFaultRates), for the token and export routes.
#include <algorithm>
#include <cstdio>
#include <string>

#include "fake/fake_server.h"

namespace stsync::fake {
namespace {

// The FaultRates field of each kind, in FaultKinds() order.
double FaultRates::*const kRateFields[] = {
    &FaultRates::throttle,     &FaultRates::maintenance,
    &FaultRates::server_error, &FaultRates::unavailable,
    &FaultRates::slow,         &FaultRates::hang,
    &FaultRates::truncate,     &FaultRates::reset,
    &FaultRates::broken_json,  &FaultRates::bad_envelope,
    &FaultRates::unauthorized, &FaultRates::token_error};

}  // namespace

const std::vector<std::string>& FaultKinds() {
  static const auto* kinds = new std::vector<std::string>{
      "throttle",    "maintenance",  "server_error", "unavailable",
      "slow",        "hang",         "truncate",     "reset",
      "broken_json", "bad_envelope", "unauthorized", "token_error"};
  return *kinds;
}

bool FaultRates::Parse(const std::string& text, std::string* error) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    pos = comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name = item.substr(0, eq);
    std::replace(name.begin(), name.end(), '-', '_');
    char* end = nullptr;
    double value =
        eq == std::string::npos ? -1 : std::strtod(item.c_str() + eq + 1, &end);
    if (eq == std::string::npos || !end || *end || value < 0) {
      *error = "bad fault setting '" + item + "'";
      return false;
    }
    if (name == "slow_ms") {
      slow_ms = static_cast<int>(value);
      continue;
    }
    auto it = std::find(FaultKinds().begin(), FaultKinds().end(), name);
    if (it == FaultKinds().end() || value > 1) {
      *error = "unknown fault kind or rate out of [0, 1]: '" + item + "'";
      return false;
    }
    this->*kRateFields[it - FaultKinds().begin()] = value;
  }
  return true;
}

std::string FaultRates::ToString() const {
  std::string out;
  for (size_t i = 0; i < FaultKinds().size(); ++i) {
    double v = this->*kRateFields[i];
    if (v > 0) out += FaultKinds()[i] + "=" + std::to_string(v) + ",";
  }
  return out + "slow_ms=" + std::to_string(slow_ms);
}

void FakeServer::AddFault(const Fault& fault) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(fault);
}

void FakeServer::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
  rates_ = FaultRates();
}

void FakeServer::SetFaultRates(const FaultRates& rates) {
  std::lock_guard<std::mutex> lock(mu_);
  rates_ = rates;
}

std::map<std::string, int> FakeServer::FaultCounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, int> counts;
  for (const auto& kind : FaultKinds()) {
    auto it = fault_counts_.find(kind);
    counts[kind] = it == fault_counts_.end() ? 0 : it->second;
  }
  return counts;
}

std::string FakeServer::DrawFault(Fault::Target target, Fault* response) {
  std::lock_guard<std::mutex> lock(mu_);
  *response = Fault();
  response->status = 0;  // by default: answer normally
  double r = std::uniform_real_distribution<double>(0, 1)(rng_);
  const size_t token_kind = FaultKinds().size() - 1;
  for (size_t i = 0; i < FaultKinds().size(); ++i) {
    if ((target == Fault::Target::kToken) != (i == token_kind)) continue;
    r -= rates_.*kRateFields[i];
    if (r < 0) {
      const std::string& kind = FaultKinds()[i];
      ++fault_counts_[kind];
      Fault& f = *response;
      f.content_type = "application/json";
      if (kind == "throttle") {
        f.status = 429;
        f.retry_after = "1";
        f.body = R"({"title":"Too Many Requests","status":429})";
      } else if (kind == "maintenance") {
        f.status = 409;
        f.body = R"({"title":"Tenant is suspended for maintenance"})";
      } else if (kind == "server_error") {
        f.status = 500;
        f.body = R"({"title":"Internal Server Error","status":500})";
      } else if (kind == "unavailable" || kind == "token_error") {
        f.status = 503;
        f.content_type = "text/html";
        f.body = "<html><body><h1>503 Service Unavailable</h1></body></html>";
      } else if (kind == "unauthorized") {
        f.status = 401;
        f.body = "";
      } else if (kind == "slow") {
        f.delay_ms = rates_.slow_ms;
      } else if (kind == "hang") {
        f.status = 504;  // if Stop() ever ends the wait
        f.delay_ms = 3'600'000;
      }
      return kind;
    }
  }
  return "";
}

bool FakeServer::TakeFault(Fault::Target target, const std::string& path,
                           Fault* out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& f : faults_) {
    if (f.target != target || f.count <= 0) continue;
    if (!f.path_contains.empty() &&
        path.find(f.path_contains) == std::string::npos) {
      continue;
    }
    if (f.skip > 0) {
      --f.skip;
      return false;
    }
    --f.count;
    *out = f;
    if (!f.bodies.empty()) out->body = f.bodies[f.served++ % f.bodies.size()];
    return true;
  }
  return false;
}

}  // namespace stsync::fake
