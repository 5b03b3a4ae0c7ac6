// PrometheusText: writes metrics in the Prometheus text exposition format,
// version 0.0.4 (Content-Type "text/plain; version=0.0.4").
//
// Each metric family is introduced once, by Family() (its # HELP and # TYPE
// lines), and followed by its samples. Label values are escaped (\\, \",
// \n), HELP text too (\\, \n); names are the caller's and must match
// [a-zA-Z_:][a-zA-Z0-9_:]*. Values print as integers when they are whole,
// else in the shortest form that reads back exactly; +Inf as "+Inf".
//
// Debian 12 has no prometheus-cpp package, and the format is small.
// Thread safety: none; one writer per response.
#ifndef STSYNC_BASE_PROMETHEUS_TEXT_H_
#define STSYNC_BASE_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace stsync {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
 public:
  static constexpr const char* kContentType =
      "text/plain; version=0.0.4; charset=utf-8";

  // # HELP and # TYPE lines; `type` is counter, gauge or histogram.
  void Family(const std::string& name, const std::string& type,
              const std::string& help);
  void Sample(const std::string& name, const MetricLabels& labels,
              double value);
  // A histogram's samples: cumulative name_bucket{le=...} for each of
  // `bounds` (ascending) and +Inf, then name_sum and name_count. `counts[i]`
  // is the number of observations <= bounds[i] and > bounds[i-1];
  // counts.size() == bounds.size() + 1 (the last: above every bound).
  void Histogram(const std::string& name, const MetricLabels& labels,
                 const std::vector<double>& bounds,
                 const std::vector<uint64_t>& counts, double sum);

  const std::string& text() const { return out_; }

  static std::string EscapeLabelValue(const std::string& v);
  static std::string EscapeHelp(const std::string& v);
  static std::string FormatValue(double v);

 private:
  void Line(const std::string& name, const MetricLabels& labels,
            const std::string& value);
  std::string out_;
};

}  // namespace stsync

#endif  // STSYNC_BASE_PROMETHEUS_TEXT_H_
