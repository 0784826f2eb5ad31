#ifndef KV_GOSSIP_WIRE_H_
#define KV_GOSSIP_WIRE_H_

// Conversions between membership and the kv.gossip.v1 messages that carry it.

#include <vector>

#include "gossip/membership.h"
#include "kv/gossip/v1/gossip.pb.h"

namespace kv::gossip {

// Fills `out` with the gossiped fields of `member` (not the local bookkeeping).
void MemberToProto(const Member& member, kv::gossip::v1::Member* out);
// Returns the member `in` describes. An unspecified state reads as alive.
Member MemberFromProto(const kv::gossip::v1::Member& in);
// Returns the members of a gossiped view.
std::vector<Member> ViewFromProto(
    const google::protobuf::RepeatedPtrField<kv::gossip::v1::Member>& in);
// Appends `view` to `out`.
void ViewToProto(const std::vector<Member>& view,
                 google::protobuf::RepeatedPtrField<kv::gossip::v1::Member>* out);

}  // namespace kv::gossip

#endif  // KV_GOSSIP_WIRE_H_
