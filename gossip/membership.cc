#include "gossip/membership.h"

#include <algorithm>

namespace kv::gossip {
namespace {

// Precedence at equal incarnations.
int Rank(MemberState state) {
  switch (state) {
    case MemberState::kAlive:
      return 0;
    case MemberState::kSuspect:
      return 1;
    case MemberState::kDead:
      return 2;
  }
  return 0;
}

void SortById(std::vector<Member>& members) {
  std::sort(members.begin(), members.end(),
            [](const Member& a, const Member& b) { return a.id < b.id; });
}

}  // namespace

Membership::Membership(Member self, const std::vector<Member>& static_members, const Clock* clock,
                       MembershipOptions options)
    : self_id_(self.id), clock_(clock), options_(options) {
  absl::MutexLock lock(&mu_);
  self.state = MemberState::kAlive;
  members_[self_id_] = Entry{std::move(self)};
  for (const Member& m : static_members) {
    if (m.id == self_id_) continue;
    Entry entry{m};
    entry.member.state = MemberState::kAlive;
    members_[m.id] = std::move(entry);
  }
}

Member Membership::Self() const {
  absl::MutexLock lock(&mu_);
  return members_.at(self_id_).member;
}

std::vector<Member> Membership::Snapshot() const {
  std::vector<Member> out;
  {
    absl::MutexLock lock(&mu_);
    out.reserve(members_.size());
    for (const auto& [id, entry] : members_) out.push_back(entry.member);
  }
  SortById(out);
  return out;
}

std::optional<Member> Membership::Find(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  return it->second.member;
}

std::vector<Member> Membership::Peers(MemberState state) const {
  std::vector<Member> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, entry] : members_) {
      if (id != self_id_ && entry.member.state == state) out.push_back(entry.member);
    }
  }
  SortById(out);
  return out;
}

void Membership::SetStateLocked(Entry& entry, MemberState state) {
  if (state == MemberState::kSuspect && entry.member.state != MemberState::kSuspect) {
    entry.member.suspect_since = clock_->Now();
  }
  entry.member.state = state;
}

void Membership::SetSelfAddress(const std::string& address) {
  absl::MutexLock lock(&mu_);
  Member& self = members_.at(self_id_).member;
  self.address = address;
  ++self.incarnation;
}

void Membership::Merge(const std::vector<Member>& view) {
  absl::MutexLock lock(&mu_);
  for (const Member& m : view) MergeOneLocked(m);
}

void Membership::MergeOneLocked(const Member& incoming) {
  if (incoming.id.empty()) return;
  if (incoming.id == self_id_) {
    Member& self = members_.at(self_id_).member;
    if (incoming.state != MemberState::kAlive && incoming.incarnation >= self.incarnation) {
      self.incarnation = incoming.incarnation + 1;  // refute: I am alive
    } else if (incoming.incarnation > self.incarnation) {
      self.incarnation = incoming.incarnation;
    }
    return;
  }
  auto it = members_.find(incoming.id);
  if (it == members_.end()) {
    Entry entry{incoming};
    entry.member.last_heard = absl::InfinitePast();
    entry.member.suspect_since = clock_->Now();
    members_[incoming.id] = std::move(entry);
    return;
  }
  Entry& entry = it->second;
  if (incoming.incarnation > entry.member.incarnation) {
    entry.member.role = incoming.role;
    entry.member.region = incoming.region;
    entry.member.address = incoming.address;
    entry.member.incarnation = incoming.incarnation;
    if (incoming.state == MemberState::kAlive) entry.failures = 0;  // it refuted
    SetStateLocked(entry, incoming.state);
  } else if (incoming.incarnation == entry.member.incarnation &&
             Rank(incoming.state) > Rank(entry.member.state)) {
    SetStateLocked(entry, incoming.state);
  }
}

void Membership::Heard(const Member& member) {
  if (member.id.empty() || member.id == self_id_) return;
  absl::MutexLock lock(&mu_);
  Entry& entry = members_[member.id];
  const uint64_t incarnation = std::max(entry.member.incarnation, member.incarnation);
  if (entry.member.id.empty()) entry.member = member;
  entry.member.role = member.role;
  entry.member.region = member.region;
  entry.member.address = member.address;
  entry.member.incarnation = incarnation;
  entry.member.last_heard = clock_->Now();
  SetStateLocked(entry, MemberState::kAlive);
}

void Membership::RecordSuccess(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(id);
  if (it == members_.end() || id == self_id_) return;
  it->second.failures = 0;
  it->second.member.last_heard = clock_->Now();
  SetStateLocked(it->second, MemberState::kAlive);
}

void Membership::RecordFailure(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(id);
  if (it == members_.end() || id == self_id_) return;
  Entry& entry = it->second;
  ++entry.failures;
  if (entry.failures >= options_.suspect_after && entry.member.state == MemberState::kAlive) {
    SetStateLocked(entry, MemberState::kSuspect);
  }
}

int Membership::ExpireSuspects() {
  const absl::Time now = clock_->Now();
  int expired = 0;
  absl::MutexLock lock(&mu_);
  for (auto& [id, entry] : members_) {
    if (entry.member.state == MemberState::kSuspect &&
        now - entry.member.suspect_since >= options_.dead_after) {
      SetStateLocked(entry, MemberState::kDead);
      ++expired;
    }
  }
  return expired;
}

uint64_t Membership::OriginEpoch() const {
  absl::MutexLock lock(&mu_);
  return origin_epoch_;
}

void Membership::LearnOriginEpoch(uint64_t epoch, bool direct) {
  if (epoch == 0) return;
  absl::MutexLock lock(&mu_);
  if (direct || origin_epoch_ == 0) origin_epoch_ = epoch;
}

}  // namespace kv::gossip
