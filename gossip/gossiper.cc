#include "gossip/gossiper.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/thread_name.h"
#include "gossip/wire.h"
#include "kv/gossip/v1/gossip.grpc.pb.h"

namespace kv::gossip {
namespace {

uint64_t SeedOf(uint64_t seed) {
  if (seed != 0) return seed;
  absl::BitGen gen;
  return absl::Uniform<uint64_t>(gen);
}

}  // namespace

Gossiper::Gossiper(storage::Store* store, Membership* membership, ChannelFactory* channels,
                   const Clock* clock, prometheus::Registry& registry, GossiperOptions options,
                   replication::ReplicationMetrics* replication_metrics)
    : store_(store),
      membership_(membership),
      channels_(channels),
      clock_(clock),
      options_(options),
      metrics_(registry),
      repairer_(store, channels, clock, &calls_, &metrics_, replication_metrics,
                membership->Self().id, options.repair),
      rng_(SeedOf(options.seed)) {}

Gossiper::~Gossiper() { Stop(); }

int64_t Gossiper::rounds() const {
  absl::MutexLock lock(&mu_);
  return rounds_;
}

absl::Status Gossiper::Tick() {
  const absl::Time start = clock_->Now();
  membership_->ExpireSuspects();
  std::vector<PeerReport> reports;
  for (const Member& peer : PickTargets()) {
    if (std::optional<PeerReport> report = Exchange(peer)) reports.push_back(*report);
  }
  UpdatePeerGauges();
  LocalState self;
  self.is_origin = membership_->Self().role == kRoleOrigin;
  self.now = store_->Summary();
  self.origin_epoch = membership_->OriginEpoch();
  {
    absl::MutexLock lock(&mu_);
    self.before = std::exchange(last_summary_, self.now);
  }
  absl::Status status = Run(PlanSync(self, reports));
  {
    absl::MutexLock lock(&mu_);
    ++rounds_;
  }
  metrics_.AddRound(clock_->Now() - start);
  return status;
}

std::vector<Member> Gossiper::PickTargets() {
  std::vector<Member> live = membership_->Peers(MemberState::kAlive);
  const std::vector<Member> suspect = membership_->Peers(MemberState::kSuspect);
  live.insert(live.end(), suspect.begin(), suspect.end());
  const std::vector<Member> dead = membership_->Peers(MemberState::kDead);
  absl::MutexLock lock(&mu_);
  std::shuffle(live.begin(), live.end(), rng_);
  if (static_cast<int>(live.size()) > options_.fanout) {
    live.resize(static_cast<size_t>(std::max(0, options_.fanout)));
  }
  if (options_.dead_probe_every > 0 && !dead.empty() &&
      (rounds_ + 1) % options_.dead_probe_every == 0) {
    live.push_back(dead[std::uniform_int_distribution<size_t>(0, dead.size() - 1)(rng_)]);
  }
  return live;
}

std::optional<PeerReport> Gossiper::Exchange(const Member& peer) {
  const Member self = membership_->Self();
  v1::DigestRequest request;
  MemberToProto(self, request.mutable_sender());
  ViewToProto(membership_->Snapshot(), request.mutable_members());
  request.set_origin_epoch(KnownOriginEpoch(*membership_, *store_));
  const uint64_t epoch = store_->Epoch();
  request.set_epoch(epoch);
  request.set_applied_sequence(store_->AppliedSequence());
  v1::DigestResponse response;
  auto stub = v1::Gossip::NewStub(channels_->Dial(peer.peer()));
  absl::Status status;
  {
    CallTracker::Call call(&calls_, options_.rpc_timeout);
    status = call.ok() ? FromGrpcStatus(stub->Digest(call.context(), request, &response))
                       : absl::CancelledError("gossip is shutting down");
  }
  if (status.ok() && response.node_id() != peer.id) {
    status = absl::FailedPreconditionError(absl::StrCat("address ", peer.address, " of ", peer.id,
                                                        " is served by ", response.node_id()));
  }
  if (!status.ok()) {
    membership_->RecordFailure(peer.id);
    metrics_.AddRpcFailure(PeerCall::kDigest);
    return std::nullopt;
  }
  const std::vector<Member> view = ViewFromProto(response.members());
  membership_->Merge(view);
  for (const Member& m : view) {
    if (m.id == peer.id) membership_->Heard(m);  // its own word on itself
  }
  membership_->RecordSuccess(peer.id);
  if (response.role() == kRoleOrigin) {
    membership_->LearnOriginEpoch(response.epoch(), /*direct=*/true);
  } else {
    membership_->LearnOriginEpoch(response.origin_epoch(), /*direct=*/false);
  }
  PeerReport report;
  report.member = membership_->Find(peer.id).value_or(peer);
  report.member.role = response.role();
  report.now.epoch = response.epoch();
  report.now.applied_sequence = response.applied_sequence();
  report.now.log_start = response.log_start();
  report.now.hash = response.hash();
  if (response.has_fingerprint() && response.epoch() == epoch && store_->Epoch() == epoch) {
    if (std::optional<uint64_t> mine = store_->FingerprintAt(response.fingerprint_sequence())) {
      report.same_fingerprint = *mine == response.fingerprint();
      metrics_.AddFingerprintComparison(*report.same_fingerprint);
    }
  }
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = reports_.try_emplace(peer.id, report.now);
  if (!inserted) report.before = std::exchange(it->second, report.now);
  return report;
}

absl::Status Gossiper::Run(const SyncPlan& plan) {
  switch (plan.action) {
    case SyncAction::kNone:
      return absl::OkStatus();
    case SyncAction::kCatchUp:
      return CatchUpFrom(plan.peer);
    case SyncAction::kAdopt:
      return AdoptFrom(plan.peer);
    case SyncAction::kRepair:
      return RepairDamageFrom(plan.peer);
  }
  return absl::OkStatus();
}

std::optional<uint64_t> Gossiper::AppliedFloor() const {
  const uint64_t epoch = store_->Epoch();
  uint64_t floor = store_->AppliedSequence();
  const std::string self = membership_->Self().id;
  const std::vector<Member> members = membership_->Snapshot();
  absl::MutexLock lock(&mu_);
  for (const Member& m : members) {
    if (m.id == self) continue;
    auto it = reports_.find(m.id);
    if (it == reports_.end() || it->second.epoch != epoch) return std::nullopt;
    floor = std::min(floor, it->second.applied_sequence);
  }
  return floor;
}

absl::Status Gossiper::AdoptFrom(const PeerAddress& peer) {
  absl::Status s = RepairFrom(peer, /*adopt_lineage=*/true);
  if (!s.ok()) return s;
  return CatchUpFrom(peer);
}

absl::Status Gossiper::RepairFrom(const PeerAddress& peer, bool adopt_lineage) {
  return Repair(peer, adopt_lineage).status();
}

absl::StatusOr<RepairResult> Gossiper::Repair(const PeerAddress& peer, bool adopt_lineage) {
  absl::StatusOr<RepairResult> result = repairer_.RepairFrom(peer, adopt_lineage);
  if (!result.ok()) {
    KV_LOG_WARNING("repair from ", peer.id, " failed: ", result.status().ToString());
    return result;
  }
  KV_LOG_INFO("repaired from ", peer.id, " (", RepairKindName(result->kind),
              "): ", result->keys_repaired, " records applied",
              result->adopted
                  ? absl::StrCat("; adopted lineage ", result->epoch, " at ", result->sequence)
                  : std::string());
  return result;
}

absl::Status Gossiper::RepairDamageFrom(const PeerAddress& peer) {
  {
    absl::MutexLock lock(&mu_);
    if (rounds_ < damage_quiet_until_) return absl::OkStatus();
  }
  absl::StatusOr<RepairResult> result = Repair(peer, /*adopt_lineage=*/false);
  if (!result.ok()) return result.status();
  absl::MutexLock lock(&mu_);
  if (result->keys_repaired > 0) {
    damage_backoff_ = 0;
    return absl::OkStatus();
  }
  damage_backoff_ = std::min(kMaxDamageBackoff, std::max<int64_t>(1, damage_backoff_ * 2));
  damage_quiet_until_ = rounds_ + 1 + damage_backoff_;
  KV_LOG_WARNING("data differs from ", peer.id,
                 "'s but it has nothing newer to give (this replica may hold versions its "
                 "peers deleted, or the peer is the damaged one); next damage repair in ",
                 damage_backoff_, " rounds");
  return absl::OkStatus();
}

absl::Status Gossiper::CatchUpFrom(const PeerAddress& peer) {
  absl::StatusOr<int64_t> received = repairer_.CatchUpFrom(peer);
  return received.status();
}

absl::Status Gossiper::JoinThrough(const std::string& seed_address) {
  // The seed's id is not known yet; the channel is cached under this name.
  const PeerAddress seed{absl::StrCat("seed:", seed_address), "", seed_address};
  v1::JoinRequest request;
  MemberToProto(membership_->Self(), request.mutable_member());
  v1::JoinResponse response;
  auto stub = v1::Gossip::NewStub(channels_->Dial(seed));
  absl::Status status;
  {
    CallTracker::Call call(&calls_, options_.rpc_timeout);
    status = call.ok() ? FromGrpcStatus(stub->Join(call.context(), request, &response))
                       : absl::CancelledError("gossip is shutting down");
  }
  if (!status.ok()) {
    metrics_.AddRpcFailure(PeerCall::kJoin);
    return status;
  }
  const std::vector<Member> view = ViewFromProto(response.members());
  membership_->Merge(view);
  for (const Member& m : view) {
    if (m.address == seed_address) membership_->Heard(m);
  }
  UpdatePeerGauges();
  return absl::OkStatus();
}

void Gossiper::UpdatePeerGauges() {
  const std::string self = membership_->Self().id;
  int alive = 0, suspect = 0, dead = 0;
  for (const Member& m : membership_->Snapshot()) {
    if (m.id == self) continue;
    ++(m.state == MemberState::kAlive ? alive : m.state == MemberState::kSuspect ? suspect : dead);
  }
  metrics_.SetPeers(alive, suspect, dead);
}

void Gossiper::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] {
    SetCurrentThreadName("kv-gossip");
    Loop();
  });
}

void Gossiper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  calls_.Shutdown();
  if (thread_.joinable()) thread_.join();
}

void Gossiper::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::Status s = Tick();
    if (!s.ok() && s.code() != absl::StatusCode::kCancelled) {
      KV_LOG_WARNING("gossip round: ", s.ToString());
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval);
  }
}

}  // namespace kv::gossip
