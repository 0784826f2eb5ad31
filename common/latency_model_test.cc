#include "common/latency_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"

namespace kv {
namespace {

using ::kv::testing::IsOk;
using ::kv::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<LatencyModel> Parse(const std::string& yaml) {
  return LatencyModel::FromYaml(YAML::Load(yaml)["latency"]);
}

constexpr char kExample[] = R"(
latency:
  enabled: true
  intra_region_ms: 2
  default_ms: 80
  regions:
    - [eu-west, us-east, 40]
    - [eu-west, ap-south, 75.5]
)";

TEST(LatencyModelTest, ParsesTheDocumentedExample) {
  absl::StatusOr<LatencyModel> model = Parse(kExample);
  ASSERT_THAT(model, IsOk());
  EXPECT_TRUE(model->enabled());
  EXPECT_EQ(model->intra_region(), absl::Milliseconds(2));
  EXPECT_EQ(model->default_latency(), absl::Milliseconds(80));
  EXPECT_EQ(model->pair_count(), 2u);
  EXPECT_EQ(model->OneWay("eu-west", "us-east"), absl::Milliseconds(40));
  EXPECT_EQ(model->OneWay("eu-west", "ap-south"), absl::Microseconds(75500));
}

TEST(LatencyModelTest, LookupsAreSymmetric) {
  absl::StatusOr<LatencyModel> model = Parse(kExample);
  ASSERT_THAT(model, IsOk());
  EXPECT_EQ(model->OneWay("us-east", "eu-west"), absl::Milliseconds(40));
  EXPECT_EQ(model->OneWay("ap-south", "eu-west"), absl::Microseconds(75500));
}

TEST(LatencyModelTest, SameRegionIsIntraAndUnlistedPairsAreDefault) {
  absl::StatusOr<LatencyModel> model = Parse(kExample);
  ASSERT_THAT(model, IsOk());
  EXPECT_EQ(model->OneWay("eu-west", "eu-west"), absl::Milliseconds(2));
  EXPECT_EQ(model->OneWay("mars", "mars"), absl::Milliseconds(2));
  EXPECT_EQ(model->OneWay("us-east", "ap-south"), absl::Milliseconds(80));
  EXPECT_EQ(model->OneWay("eu-west", "mars"), absl::Milliseconds(80));
}

TEST(LatencyModelTest, DisabledModelIsZeroEverywhere) {
  absl::StatusOr<LatencyModel> model = Parse(R"(
latency:
  enabled: false
  intra_region_ms: 2
  default_ms: 80
  regions: [[eu-west, us-east, 40]]
)");
  ASSERT_THAT(model, IsOk());
  EXPECT_FALSE(model->enabled());
  EXPECT_EQ(model->OneWay("eu-west", "us-east"), absl::ZeroDuration());
  EXPECT_EQ(model->OneWay("eu-west", "eu-west"), absl::ZeroDuration());
  EXPECT_EQ(model->OneWay("a", "b"), absl::ZeroDuration());
}

TEST(LatencyModelTest, MissingSectionIsDisabledAndDefaultConstructedToo) {
  absl::StatusOr<LatencyModel> missing = Parse("cluster: x\n");
  ASSERT_THAT(missing, IsOk());
  EXPECT_FALSE(missing->enabled());
  absl::StatusOr<LatencyModel> null = Parse("latency:\n");
  ASSERT_THAT(null, IsOk());
  EXPECT_FALSE(null->enabled());
  EXPECT_FALSE(LatencyModel().enabled());
  EXPECT_EQ(LatencyModel().OneWay("a", "b"), absl::ZeroDuration());
}

TEST(LatencyModelTest, FieldsAreOptionalAndEnabledDefaultsToTrue) {
  absl::StatusOr<LatencyModel> model = Parse("latency:\n  default_ms: 30\n");
  ASSERT_THAT(model, IsOk());
  EXPECT_TRUE(model->enabled());
  EXPECT_EQ(model->intra_region(), absl::ZeroDuration());
  EXPECT_EQ(model->OneWay("a", "b"), absl::Milliseconds(30));
  EXPECT_EQ(model->OneWay("a", "a"), absl::ZeroDuration());
}

struct InvalidCase {
  const char* name;
  const char* yaml;
  const char* message;  // a substring naming the field
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

class LatencyModelInvalidTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(LatencyModelInvalidTest, IsInvalidArgumentNamingTheField) {
  EXPECT_THAT(Parse(GetParam().yaml),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, LatencyModelInvalidTest,
    ::testing::Values(
        InvalidCase{"NotAMapping", "latency: [1, 2]", "latency: must be a mapping"},
        InvalidCase{"ScalarSection", "latency: 5", "latency: must be a mapping"},
        InvalidCase{"EnabledNotBool", "latency: {enabled: maybe}", "latency.enabled"},
        InvalidCase{"EnabledList", "latency: {enabled: [true]}", "latency.enabled"},
        InvalidCase{"IntraNotNumber", "latency: {intra_region_ms: fast}",
                    "latency.intra_region_ms"},
        InvalidCase{"IntraNegative", "latency: {intra_region_ms: -1}", "latency.intra_region_ms"},
        InvalidCase{"DefaultTooLarge", "latency: {default_ms: 60001}", "latency.default_ms"},
        InvalidCase{"DefaultNan", "latency: {default_ms: nan}", "latency.default_ms"},
        InvalidCase{"DefaultMap", "latency: {default_ms: {a: 1}}", "latency.default_ms"},
        InvalidCase{"RegionsNotList", "latency: {regions: eu-west}", "latency.regions"},
        InvalidCase{"RegionsEntryShort", "latency: {regions: [[a, b]]}", "latency.regions[0]"},
        InvalidCase{"RegionsEntryLong", "latency: {regions: [[a, b, 1, 2]]}", "latency.regions[0]"},
        InvalidCase{"RegionsEntryScalar", "latency: {regions: [a]}", "latency.regions[0]"},
        InvalidCase{"RegionEmpty", "latency: {regions: [[a, b, 1], ['', b, 1]]}",
                    "latency.regions[1][0]"},
        InvalidCase{"RegionList", "latency: {regions: [[a, [b], 1]]}", "latency.regions[0][1]"},
        InvalidCase{"PairMillisBad", "latency: {regions: [[a, b, slow]]}", "latency.regions[0][2]"},
        InvalidCase{"PairSameRegion", "latency: {regions: [[a, a, 1]]}", "latency.regions[0]"},
        InvalidCase{"PairTwice", "latency: {regions: [[a, b, 1], [b, a, 2]]}",
                    "latency.regions[1]: pair b/a is listed more than once"},
        InvalidCase{"UnknownField", "latency: {default: 80}", "latency.default: unknown field"}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) { return info.param.name; });

TEST(GreatCircleTest, OneDegreeOfLongitudeAtTheEquator) {
  // 2 * pi * 6371.0088 / 360.
  EXPECT_NEAR(GreatCircleKm({0, 0}, {0, 1}), 111.19508, 1e-4);
  EXPECT_NEAR(GreatCircleKm({0, 179.5}, {0, -179.5}), 111.19508, 1e-4);  // across 180
}

TEST(GreatCircleTest, AntipodesAreHalfACircumference) {
  EXPECT_NEAR(GreatCircleKm({0, 0}, {0, 180}), M_PI * kEarthRadiusKm, 1e-6);
  EXPECT_NEAR(GreatCircleKm({90, 0}, {-90, 0}), M_PI * kEarthRadiusKm, 1e-6);
  EXPECT_EQ(GreatCircleKm({51.5, -0.46}, {51.5, -0.46}), 0);
}

TEST(GreatCircleTest, KnownCityPairsWithinOnePercent) {
  // Airport coordinates as in cloudflare-locations.json; published great-circle
  // distances: London Heathrow - Newark 5,576 km, Sydney - Los Angeles 12,051 km.
  const GeoPoint lhr{51.4706, -0.461941};
  const GeoPoint ewr{40.692501, -74.168701};
  const GeoPoint syd{-33.946098, 151.177002};
  const GeoPoint lax{33.942501, -118.407997};
  EXPECT_NEAR(GreatCircleKm(lhr, ewr), 5576, 5576 * 0.01);
  EXPECT_NEAR(GreatCircleKm(syd, lax), 12051, 12051 * 0.01);
  EXPECT_DOUBLE_EQ(GreatCircleKm(lhr, ewr), GreatCircleKm(ewr, lhr));
}

TEST(EstimateOneWayLatencyTest, IsDistanceOverFibreSpeedTimesInflationPlusOneMs) {
  EXPECT_EQ(EstimateOneWayLatency(0), absl::Milliseconds(1));
  EXPECT_EQ(EstimateOneWayLatency(1000), absl::Milliseconds(9));     // 5 ms * 1.6 + 1
  EXPECT_EQ(EstimateOneWayLatency(5000), absl::Milliseconds(41));    // 25 ms * 1.6 + 1
  EXPECT_EQ(EstimateOneWayLatency(12.5), absl::Microseconds(1100));  // rounded to the us
}

TEST(LatencyModelTest, FromLocationsEstimatesEveryPair) {
  const GeoPoint lhr{51.4706, -0.461941};
  const GeoPoint ewr{40.692501, -74.168701};
  const LatencyModel model = LatencyModel::FromLocations(
      {{"eu-west", lhr}, {"us-east", ewr}}, absl::Milliseconds(3), absl::Milliseconds(90));
  EXPECT_TRUE(model.enabled());
  EXPECT_EQ(model.pair_count(), 1u);
  const absl::Duration expected = EstimateOneWayLatency(GreatCircleKm(lhr, ewr));
  EXPECT_EQ(model.OneWay("eu-west", "us-east"), expected);
  EXPECT_EQ(model.OneWay("us-east", "eu-west"), expected);
  // ~5562 km -> ~45.5 ms one way.
  EXPECT_NEAR(absl::ToDoubleMilliseconds(expected), 45.5, 0.5);
  EXPECT_EQ(model.OneWay("eu-west", "eu-west"), absl::Milliseconds(3));
  EXPECT_EQ(model.OneWay("eu-west", "nowhere"), absl::Milliseconds(90));
}

class LoadLocationsTest : public ::testing::Test {
 protected:
  std::string WriteFile(const std::string& name, const std::string& contents) {
    std::string path =
        absl::StrCat(::testing::TempDir(), "/latency_model_test_", getpid(), "_", name);
    std::ofstream(path) << contents;
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& p : paths_) std::remove(p.c_str());
  }
  std::vector<std::string> paths_;
};

TEST_F(LoadLocationsTest, ReadsEntriesByIata) {
  const std::string path = WriteFile("ok.json", R"([
    {"iata": "LHR", "city": "London", "cca2": "GB", "region": "Europe", "lat": 51.4706, "lon": -0.461941},
    {"iata": "AGR", "city": "", "cca2": "IN", "region": "Asia Pacific", "lat": 27.15, "lon": 77.96}
  ])");
  auto locations = LoadLocations(path);
  ASSERT_THAT(locations, IsOk());
  ASSERT_EQ(locations->size(), 2u);
  const Location& lhr = locations->at("LHR");
  EXPECT_EQ(lhr.city, "London");
  EXPECT_EQ(lhr.country, "GB");
  EXPECT_EQ(lhr.region, "Europe");
  EXPECT_DOUBLE_EQ(lhr.point.lat_deg, 51.4706);
  EXPECT_DOUBLE_EQ(lhr.point.lon_deg, -0.461941);
  EXPECT_EQ(locations->at("AGR").city, "");
}

TEST_F(LoadLocationsTest, RejectsBadFiles) {
  EXPECT_THAT(LoadLocations(absl::StrCat(::testing::TempDir(), "/no-such-locations.json")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(LoadLocations(WriteFile("syntax.json", "[{")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(LoadLocations(WriteFile("object.json", "{}")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      LoadLocations(WriteFile("lat.json", R"([{"iata": "X", "city": "", "cca2": "", "region": "",
                                               "lat": "north", "lon": 0}])")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("entry 0: \"lat\"")));
  EXPECT_THAT(
      LoadLocations(WriteFile("range.json", R"([{"iata": "X", "city": "", "cca2": "", "region": "",
                                                 "lat": 91, "lon": 0}])")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out of range")));
  EXPECT_THAT(LoadLocations(WriteFile("dup.json", R"([
      {"iata": "X", "city": "", "cca2": "", "region": "", "lat": 1, "lon": 1},
      {"iata": "X", "city": "", "cca2": "", "region": "", "lat": 2, "lon": 2}])")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate IATA code X")));
}

// Returns the path of the real data set (../shared/data beside the repository; ctest
// sets KV_SOURCE_DIR, a manual run is usually from the repository root), or "".
std::string CloudflareLocationsPath() {
  std::vector<std::string> candidates;
  if (const char* source_dir = std::getenv("KV_SOURCE_DIR"); source_dir != nullptr) {
    candidates.push_back(absl::StrCat(source_dir, "/../shared/data/cloudflare-locations.json"));
  }
  candidates.push_back("../shared/data/cloudflare-locations.json");
  for (const std::string& path : candidates) {
    if (std::ifstream(path)) return path;
  }
  return "";
}

TEST_F(LoadLocationsTest, LoadsTheCloudflareLocations) {
  const std::string path = CloudflareLocationsPath();
  if (path.empty()) GTEST_SKIP() << "cloudflare-locations.json not found";
  auto locations = LoadLocations(path);
  ASSERT_THAT(locations, IsOk());
  EXPECT_EQ(locations->size(), 308u);
  const Location& syd = locations->at("SYD");
  const Location& lax = locations->at("LAX");
  EXPECT_EQ(syd.region, "Oceania");
  EXPECT_NEAR(GreatCircleKm(syd.point, lax.point), 12051, 12051 * 0.01);
  const LatencyModel model = LatencyModel::FromLocations(
      {{"eu-west", locations->at("LHR").point}, {"ap-southeast", locations->at("SIN").point}});
  // ~10,883 km -> ~88 ms one way.
  EXPECT_NEAR(absl::ToDoubleMilliseconds(model.OneWay("eu-west", "ap-southeast")), 88.07, 0.1);
}

}  // namespace
}  // namespace kv
