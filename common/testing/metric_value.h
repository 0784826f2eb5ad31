#ifndef KV_COMMON_TESTING_METRIC_VALUE_H_
#define KV_COMMON_TESTING_METRIC_VALUE_H_

// Reads a node's metrics in tests straight from its prometheus registry.

#include <prometheus/registry.h>

#include <map>
#include <string>

namespace kv::testing {

// Sums the samples (counter or gauge) of metric `name` whose labels include `labels`;
// 0 if there are none.
inline double MetricValue(prometheus::Registry& registry, const std::string& name,
                          const std::map<std::string, std::string>& labels = {}) {
  double sum = 0;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      size_t matched = 0;
      for (const prometheus::ClientMetric::Label& l : m.label) {
        auto it = labels.find(l.name);
        if (it != labels.end() && it->second == l.value) ++matched;
      }
      if (matched == labels.size()) sum += m.counter.value + m.gauge.value;
    }
  }
  return sum;
}

}  // namespace kv::testing

#endif  // KV_COMMON_TESTING_METRIC_VALUE_H_
