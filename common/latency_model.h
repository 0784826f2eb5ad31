#ifndef KV_COMMON_LATENCY_MODEL_H_
#define KV_COMMON_LATENCY_MODEL_H_

// Modelled one-way WAN latency between named regions. The cluster config provides it:
//
//   latency:
//     enabled: true
//     intra_region_ms: 2          # between two nodes of one region
//     default_ms: 80              # pairs not listed
//     regions:                    # optional explicit pairs (symmetric)
//       - [eu-west, us-east, 40]
//       - [eu-west, ap-south, 75]
//
// A BridgedChannelFactory turns OneWay(self, peer) into a LinkBridge delay. A model can
// also be estimated from coordinates (FromLocations), e.g. Cloudflare locations looked
// up by IATA code in cloudflare-locations.json (LoadLocations).

#include <map>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace YAML {
class Node;
}  // namespace YAML

namespace kv {

// A point on the Earth, in degrees.
struct GeoPoint {
  double lat_deg = 0;
  double lon_deg = 0;
};

// One entry of cloudflare-locations.json.
struct Location {
  std::string iata;     // "LHR"
  std::string city;     // "London" (may be empty in the data)
  std::string country;  // ISO 3166 alpha-2, "GB"
  std::string region;   // continent-like, "Europe"
  GeoPoint point;
};

// Mean Earth radius used for great-circle distances (IUGG), in km.
inline constexpr double kEarthRadiusKm = 6371.0088;
// Light in fibre covers about 200 km per ms.
inline constexpr double kFibreKmPerMs = 200.0;
// Real routes are typically 1.5-2x the great circle; we use 1.6.
inline constexpr double kRouteInflation = 1.6;
// Fixed per-path cost (switching, last mile), in ms.
inline constexpr double kFixedOneWayMs = 1.0;

// Returns the great-circle (haversine) distance between `a` and `b` in km.
double GreatCircleKm(GeoPoint a, GeoPoint b);

// Returns the estimated one-way latency over `km` of great-circle distance:
// km / 200 km-per-ms * 1.6 + 1 ms, rounded to the microsecond. 1000 km -> 9 ms.
absl::Duration EstimateOneWayLatency(double km);

// Reads a JSON array of {"iata", "city", "cca2", "region", "lat", "lon"} objects (the
// format of cloudflare-locations.json) into a map keyed by IATA code (as written, upper
// case). NOT_FOUND if the file cannot be read; INVALID_ARGUMENT, naming the entry, for
// malformed JSON, a missing or mistyped field, a coordinate out of range or a duplicate
// code.
absl::StatusOr<absl::flat_hash_map<std::string, Location>> LoadLocations(const std::string& path);

// A symmetric table of one-way latencies between regions. A value type; const methods are
// thread-safe (it is immutable once built).
class LatencyModel {
 public:
  // The disabled model: OneWay is zero for every pair.
  LatencyModel() = default;

  // Returns a model from the `latency` mapping of a cluster config. An undefined or null
  // node (no `latency:` section) gives the disabled model. All fields are optional:
  // `enabled` (bool, default true when the section exists), `intra_region_ms` and
  // `default_ms` (non-negative numbers up to 60000, default 0), `regions` (a sequence of
  // [region, region, ms] with two different non-empty regions, each unordered pair at most
  // once). INVALID_ARGUMENT naming the field (e.g. "latency.regions[1]: ...") for anything
  // else, including unknown keys.
  static absl::StatusOr<LatencyModel> FromYaml(const YAML::Node& node);

  // Returns an enabled model estimating each pair of `regions` from its great-circle
  // distance (EstimateOneWayLatency). Two nodes of one region get `intra_region`; a
  // region absent from `regions` gets `default_latency` to every other region.
  static LatencyModel FromLocations(const std::map<std::string, GeoPoint>& regions,
                                    absl::Duration intra_region = absl::Milliseconds(2),
                                    absl::Duration default_latency = absl::Milliseconds(80));

  // Returns whether latency is modelled at all.
  bool enabled() const { return enabled_; }

  // Returns the one-way latency from `from_region` to `to_region` (symmetric): zero when
  // disabled, intra_region() for equal names, the listed pair, else default_latency().
  absl::Duration OneWay(absl::string_view from_region, absl::string_view to_region) const;

  // Returns the latency between two nodes of one region (as configured, even if disabled).
  absl::Duration intra_region() const { return intra_region_; }
  // Returns the latency of pairs not listed (as configured, even if disabled).
  absl::Duration default_latency() const { return default_; }
  // Returns the number of explicitly listed (unordered) region pairs.
  size_t pair_count() const { return pairs_.size(); }

 private:
  // Returns the key of the unordered pair {a, b}: the smaller name first.
  static std::pair<std::string, std::string> PairKey(absl::string_view a, absl::string_view b);

  bool enabled_ = false;
  absl::Duration intra_region_ = absl::ZeroDuration();
  absl::Duration default_ = absl::ZeroDuration();
  absl::flat_hash_map<std::pair<std::string, std::string>, absl::Duration> pairs_;
};

}  // namespace kv

#endif  // KV_COMMON_LATENCY_MODEL_H_
