#include "gossip/membership.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gossip/wire.h"

namespace kv::gossip {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::Optional;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

Member M(const std::string& id, uint64_t incarnation = 0, MemberState state = MemberState::kAlive,
         const std::string& address = "") {
  Member m;
  m.id = id;
  m.role = id == "origin" ? kRoleOrigin : kRoleEdge;
  m.region = "r";
  m.address = address.empty() ? id + ":1" : address;
  m.incarnation = incarnation;
  m.state = state;
  return m;
}

class MembershipTest : public ::testing::Test {
 protected:
  MembershipTest() : clock_(kStart), membership_(M("self", 5), Static(), &clock_, Options()) {}

  static std::vector<Member> Static() { return {M("origin"), M("a"), M("self")}; }
  static MembershipOptions Options() {
    MembershipOptions o;
    o.suspect_after = 3;
    o.dead_after = absl::Seconds(30);
    return o;
  }
  MemberState StateOf(const std::string& id) { return membership_.Find(id)->state; }

  SimulatedClock clock_;
  Membership membership_;
};

TEST_F(MembershipTest, StartsWithSelfAndTheStaticMembersAlive) {
  EXPECT_THAT(membership_.Snapshot(),
              ElementsAre(Field(&Member::id, "a"), Field(&Member::id, "origin"),
                          Field(&Member::id, "self")));
  EXPECT_EQ(membership_.Self().incarnation, 5u);  // self from the constructor, not the list
  EXPECT_THAT(membership_.Peers(MemberState::kAlive),
              ElementsAre(Field(&Member::id, "a"), Field(&Member::id, "origin")));
  EXPECT_TRUE(membership_.Peers(MemberState::kDead).empty());
}

TEST_F(MembershipTest, MergeAddsMembersItDidNotKnow) {
  membership_.Merge({M("b", 2), M("c", 0, MemberState::kSuspect)});
  EXPECT_THAT(membership_.Find("b"), Optional(Field(&Member::incarnation, 2u)));
  EXPECT_EQ(StateOf("c"), MemberState::kSuspect);
  EXPECT_EQ(membership_.Snapshot().size(), 5u);
}

TEST_F(MembershipTest, HigherIncarnationWinsWithItsAddress) {
  membership_.Merge({M("a", 3, MemberState::kAlive, "new:2")});
  EXPECT_THAT(membership_.Find("a"), Optional(Field(&Member::address, "new:2")));
  membership_.Merge({M("a", 2, MemberState::kDead, "old:1")});  // stale rumour
  EXPECT_EQ(StateOf("a"), MemberState::kAlive);
  EXPECT_THAT(membership_.Find("a"), Optional(Field(&Member::address, "new:2")));
}

TEST_F(MembershipTest, AtEqualIncarnationDeadBeatsSuspectBeatsAlive) {
  membership_.Merge({M("a", 0, MemberState::kSuspect)});
  EXPECT_EQ(StateOf("a"), MemberState::kSuspect);
  membership_.Merge({M("a", 0, MemberState::kAlive)});
  EXPECT_EQ(StateOf("a"), MemberState::kSuspect);
  membership_.Merge({M("a", 0, MemberState::kDead)});
  EXPECT_EQ(StateOf("a"), MemberState::kDead);
  membership_.Merge({M("a", 1, MemberState::kAlive)});  // it refuted
  EXPECT_EQ(StateOf("a"), MemberState::kAlive);
}

TEST_F(MembershipTest, SuspectAfterConsecutiveFailuresOnly) {
  membership_.RecordFailure("a");
  membership_.RecordFailure("a");
  membership_.RecordSuccess("a");  // resets the count
  membership_.RecordFailure("a");
  membership_.RecordFailure("a");
  EXPECT_EQ(StateOf("a"), MemberState::kAlive);
  membership_.RecordFailure("a");
  EXPECT_EQ(StateOf("a"), MemberState::kSuspect);
}

TEST_F(MembershipTest, SuspectBecomesDeadAfterDeadAfterOfClockTime) {
  for (int i = 0; i < 3; ++i) membership_.RecordFailure("a");
  clock_.Advance(absl::Seconds(29));
  EXPECT_EQ(membership_.ExpireSuspects(), 0);
  membership_.RecordFailure("a");  // more failures do not restart the timer
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(membership_.ExpireSuspects(), 1);
  EXPECT_EQ(StateOf("a"), MemberState::kDead);
  EXPECT_THAT(membership_.Peers(MemberState::kDead), ElementsAre(Field(&Member::id, "a")));
}

TEST_F(MembershipTest, ADeadPeerThatAnswersIsAliveAgain) {
  for (int i = 0; i < 3; ++i) membership_.RecordFailure("a");
  clock_.Advance(absl::Minutes(1));
  membership_.ExpireSuspects();
  ASSERT_EQ(StateOf("a"), MemberState::kDead);
  clock_.Advance(absl::Seconds(5));
  membership_.RecordSuccess("a");
  EXPECT_EQ(StateOf("a"), MemberState::kAlive);
  EXPECT_THAT(membership_.Find("a"), Optional(Field(&Member::last_heard, clock_.Now())));
}

TEST_F(MembershipTest, SelfRefutesSuspicionByRaisingItsIncarnation) {
  membership_.Merge({M("self", 7, MemberState::kSuspect)});
  EXPECT_EQ(membership_.Self().incarnation, 8u);
  EXPECT_EQ(membership_.Self().state, MemberState::kAlive);
  membership_.Merge({M("self", 8, MemberState::kDead)});
  EXPECT_EQ(membership_.Self().incarnation, 9u);
  membership_.Merge({M("self", 3, MemberState::kDead)});  // older than what it refuted
  EXPECT_EQ(membership_.Self().incarnation, 9u);
  membership_.Merge({M("self", 12, MemberState::kAlive)});  // a previous life's rumour
  EXPECT_EQ(membership_.Self().incarnation, 12u);
}

TEST_F(MembershipTest, AJoiningNodeIsAddedAliveAndHeardFrom) {
  clock_.Advance(absl::Seconds(3));
  membership_.Heard(M("joiner", 4, MemberState::kAlive, "j:9"));
  std::optional<Member> j = membership_.Find("joiner");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->state, MemberState::kAlive);
  EXPECT_EQ(j->address, "j:9");
  EXPECT_EQ(j->incarnation, 4u);
  EXPECT_EQ(j->last_heard, clock_.Now());
  // A node heard from directly is alive even if a rumour said otherwise.
  membership_.Merge({M("joiner", 4, MemberState::kDead, "j:9")});
  membership_.Heard(M("joiner", 2, MemberState::kAlive, "j:10"));
  j = membership_.Find("joiner");
  EXPECT_EQ(j->state, MemberState::kAlive);
  EXPECT_EQ(j->incarnation, 4u);  // never goes down
  EXPECT_EQ(j->address, "j:10");  // its own word on where it is
}

TEST_F(MembershipTest, SettingTheSelfAddressRaisesTheIncarnation) {
  membership_.SetSelfAddress("127.0.0.1:4242");
  EXPECT_EQ(membership_.Self().address, "127.0.0.1:4242");
  EXPECT_EQ(membership_.Self().incarnation, 6u);
}

TEST_F(MembershipTest, OriginEpochFromTheOriginWinsOverHearsay) {
  EXPECT_EQ(membership_.OriginEpoch(), 0u);
  membership_.LearnOriginEpoch(11, /*direct=*/false);
  EXPECT_EQ(membership_.OriginEpoch(), 11u);
  membership_.LearnOriginEpoch(12, /*direct=*/false);  // hearsay only fills an unknown
  EXPECT_EQ(membership_.OriginEpoch(), 11u);
  membership_.LearnOriginEpoch(13, /*direct=*/true);
  EXPECT_EQ(membership_.OriginEpoch(), 13u);
  membership_.LearnOriginEpoch(0, /*direct=*/true);  // unknown tells nothing
  EXPECT_EQ(membership_.OriginEpoch(), 13u);
}

TEST(WireTest, MembersRoundTripWithoutLocalBookkeeping) {
  Member m = M("a", 9, MemberState::kSuspect, "h:1");
  m.last_heard = kStart;
  kv::gossip::v1::Member proto;
  MemberToProto(m, &proto);
  const Member back = MemberFromProto(proto);
  EXPECT_EQ(back.id, "a");
  EXPECT_EQ(back.role, kRoleEdge);
  EXPECT_EQ(back.region, "r");
  EXPECT_EQ(back.address, "h:1");
  EXPECT_EQ(back.incarnation, 9u);
  EXPECT_EQ(back.state, MemberState::kSuspect);
  EXPECT_EQ(back.last_heard, absl::InfinitePast());
  EXPECT_EQ(MemberFromProto(kv::gossip::v1::Member()).state, MemberState::kAlive);
}

}  // namespace
}  // namespace kv::gossip
