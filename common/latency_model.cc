#include "common/latency_model.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kv {
namespace {

constexpr double kMaxConfiguredMs = 60000;

double Radians(double deg) { return deg * M_PI / 180.0; }

// Parses a non-negative millisecond count (integer or decimal) from a scalar node.
absl::StatusOr<absl::Duration> ParseMillis(const YAML::Node& node, absl::string_view field) {
  double ms = 0;
  if (!node.IsScalar() || !absl::SimpleAtod(node.Scalar(), &ms) || !std::isfinite(ms) || ms < 0 ||
      ms > kMaxConfiguredMs) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be a number of milliseconds in [0, 60000]",
                     node.IsScalar() ? absl::StrCat(", got \"", node.Scalar(), "\"") : ""));
  }
  return absl::Microseconds(std::llround(ms * 1000));
}

absl::StatusOr<std::string> ParseRegion(const YAML::Node& node, absl::string_view field) {
  if (!node.IsScalar() || node.Scalar().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be a non-empty region name"));
  }
  return node.Scalar();
}

}  // namespace

double GreatCircleKm(GeoPoint a, GeoPoint b) {
  const double lat1 = Radians(a.lat_deg);
  const double lat2 = Radians(b.lat_deg);
  const double dlat = lat2 - lat1;
  const double dlon = Radians(b.lon_deg - a.lon_deg);
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1) * std::cos(lat2) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

absl::Duration EstimateOneWayLatency(double km) {
  const double ms = km / kFibreKmPerMs * kRouteInflation + kFixedOneWayMs;
  return absl::Microseconds(std::llround(ms * 1000));
}

absl::StatusOr<absl::flat_hash_map<std::string, Location>> LoadLocations(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read locations file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const nlohmann::json doc =
      nlohmann::json::parse(buffer.str(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": must be a JSON array of location objects"));
  }
  absl::flat_hash_map<std::string, Location> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const nlohmann::json& entry = doc[i];
    const std::string where = absl::StrCat(path, ": entry ", i);
    if (!entry.is_object()) return absl::InvalidArgumentError(where + ": must be an object");
    for (const char* field : {"iata", "city", "cca2", "region"}) {
      if (!entry.contains(field) || !entry[field].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": \"", field, "\" must be a string"));
      }
    }
    for (const char* field : {"lat", "lon"}) {
      if (!entry.contains(field) || !entry[field].is_number()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": \"", field, "\" must be a number"));
      }
    }
    Location loc;
    loc.iata = entry["iata"].get<std::string>();
    loc.city = entry["city"].get<std::string>();
    loc.country = entry["cca2"].get<std::string>();
    loc.region = entry["region"].get<std::string>();
    loc.point.lat_deg = entry["lat"].get<double>();
    loc.point.lon_deg = entry["lon"].get<double>();
    if (loc.iata.empty()) return absl::InvalidArgumentError(where + ": \"iata\" is empty");
    if (std::abs(loc.point.lat_deg) > 90 || std::abs(loc.point.lon_deg) > 180) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " (", loc.iata, "): coordinates out of range"));
    }
    std::string key = loc.iata;
    if (!out.emplace(std::move(key), std::move(loc)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": duplicate IATA code ", entry["iata"].get<std::string>()));
    }
  }
  return out;
}

std::pair<std::string, std::string> LatencyModel::PairKey(absl::string_view a,
                                                          absl::string_view b) {
  if (b < a) std::swap(a, b);
  return {std::string(a), std::string(b)};
}

absl::Duration LatencyModel::OneWay(absl::string_view from_region,
                                    absl::string_view to_region) const {
  if (!enabled_) return absl::ZeroDuration();
  if (from_region == to_region) return intra_region_;
  auto it = pairs_.find(PairKey(from_region, to_region));
  return it == pairs_.end() ? default_ : it->second;
}

LatencyModel LatencyModel::FromLocations(const std::map<std::string, GeoPoint>& regions,
                                         absl::Duration intra_region,
                                         absl::Duration default_latency) {
  LatencyModel model;
  model.enabled_ = true;
  model.intra_region_ = intra_region;
  model.default_ = default_latency;
  for (auto a = regions.begin(); a != regions.end(); ++a) {
    for (auto b = std::next(a); b != regions.end(); ++b) {
      model.pairs_[PairKey(a->first, b->first)] =
          EstimateOneWayLatency(GreatCircleKm(a->second, b->second));
    }
  }
  return model;
}

absl::StatusOr<LatencyModel> LatencyModel::FromYaml(const YAML::Node& node) {
  LatencyModel model;
  // yaml-cpp reports misuse by throwing; this is the boundary where that stops.
  try {
    if (!node.IsDefined() || node.IsNull()) return model;
    if (!node.IsMap()) return absl::InvalidArgumentError("latency: must be a mapping");
    model.enabled_ = true;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
      const std::string field = absl::StrCat("latency.", key);
      const YAML::Node value = it->second;  // a copy: `it->` yields a temporary
      if (key == "enabled") {
        bool enabled = false;
        if (!value.IsScalar() || !YAML::convert<bool>::decode(value, enabled)) {
          return absl::InvalidArgumentError(field + ": must be true or false");
        }
        model.enabled_ = enabled;
      } else if (key == "intra_region_ms") {
        absl::StatusOr<absl::Duration> d = ParseMillis(value, field);
        if (!d.ok()) return d.status();
        model.intra_region_ = *d;
      } else if (key == "default_ms") {
        absl::StatusOr<absl::Duration> d = ParseMillis(value, field);
        if (!d.ok()) return d.status();
        model.default_ = *d;
      } else if (key == "regions") {
        if (value.IsNull()) continue;
        if (!value.IsSequence()) {
          return absl::InvalidArgumentError(field + ": must be a list of [region, region, ms]");
        }
        for (size_t i = 0; i < value.size(); ++i) {
          const std::string item = absl::StrCat(field, "[", i, "]");
          const YAML::Node entry = value[i];
          if (!entry.IsSequence() || entry.size() != 3) {
            return absl::InvalidArgumentError(item + ": must be [region, region, ms]");
          }
          absl::StatusOr<std::string> a = ParseRegion(entry[0], item + "[0]");
          if (!a.ok()) return a.status();
          absl::StatusOr<std::string> b = ParseRegion(entry[1], item + "[1]");
          if (!b.ok()) return b.status();
          absl::StatusOr<absl::Duration> d = ParseMillis(entry[2], item + "[2]");
          if (!d.ok()) return d.status();
          if (*a == *b) {
            return absl::InvalidArgumentError(absl::StrCat(
                item, ": names region ", *a, " twice (use intra_region_ms within a region)"));
          }
          if (!model.pairs_.emplace(PairKey(*a, *b), *d).second) {
            return absl::InvalidArgumentError(
                absl::StrCat(item, ": pair ", *a, "/", *b, " is listed more than once"));
          }
        }
      } else {
        return absl::InvalidArgumentError(field + ": unknown field");
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("latency: ", e.what()));
  }
  return model;
}

}  // namespace kv
