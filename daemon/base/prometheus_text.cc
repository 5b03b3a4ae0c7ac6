#include "base/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace stsync {

namespace {

// Backslashes and newlines escaped, and double quotes if `quotes`.
std::string Escape(const std::string& v, bool quotes) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string PrometheusText::EscapeLabelValue(const std::string& v) {
  return Escape(v, /*quotes=*/true);
}

std::string PrometheusText::EscapeHelp(const std::string& v) {
  return Escape(v, /*quotes=*/false);
}

std::string PrometheusText::FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void PrometheusText::Family(const std::string& name, const std::string& type,
                            const std::string& help) {
  out_ += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  out_ += "# TYPE " + name + " " + type + "\n";
}

void PrometheusText::Line(const std::string& name, const MetricLabels& labels,
                          const std::string& value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out_ += ',';
      out_ +=
          labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
    }
    out_ += '}';
  }
  out_ += ' ' + value + '\n';
}

void PrometheusText::Sample(const std::string& name, const MetricLabels& labels,
                            double value) {
  Line(name, labels, FormatValue(value));
}

void PrometheusText::Histogram(const std::string& name,
                               const MetricLabels& labels,
                               const std::vector<double>& bounds,
                               const std::vector<uint64_t>& counts,
                               double sum) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    MetricLabels with_le = labels;
    with_le.emplace_back("le",
                         i < bounds.size() ? FormatValue(bounds[i]) : "+Inf");
    Line(name + "_bucket", with_le, std::to_string(cumulative));
  }
  Sample(name + "_sum", labels, sum);
  Line(name + "_count", labels, std::to_string(cumulative));
}

}  // namespace stsync
