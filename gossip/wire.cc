#include "gossip/wire.h"

namespace kv::gossip {

void MemberToProto(const Member& member, v1::Member* out) {
  out->set_id(member.id);
  out->set_role(member.role);
  out->set_region(member.region);
  out->set_address(member.address);
  out->set_incarnation(member.incarnation);
  switch (member.state) {
    case MemberState::kAlive:
      out->set_state(v1::MEMBER_STATE_ALIVE);
      break;
    case MemberState::kSuspect:
      out->set_state(v1::MEMBER_STATE_SUSPECT);
      break;
    case MemberState::kDead:
      out->set_state(v1::MEMBER_STATE_DEAD);
      break;
  }
}

Member MemberFromProto(const v1::Member& in) {
  Member m;
  m.id = in.id();
  m.role = in.role();
  m.region = in.region();
  m.address = in.address();
  m.incarnation = in.incarnation();
  switch (in.state()) {
    case v1::MEMBER_STATE_SUSPECT:
      m.state = MemberState::kSuspect;
      break;
    case v1::MEMBER_STATE_DEAD:
      m.state = MemberState::kDead;
      break;
    default:
      m.state = MemberState::kAlive;
      break;
  }
  return m;
}

std::vector<Member> ViewFromProto(const google::protobuf::RepeatedPtrField<v1::Member>& in) {
  std::vector<Member> out;
  out.reserve(static_cast<size_t>(in.size()));
  for (const v1::Member& m : in) out.push_back(MemberFromProto(m));
  return out;
}

void ViewToProto(const std::vector<Member>& view,
                 google::protobuf::RepeatedPtrField<v1::Member>* out) {
  for (const Member& m : view) MemberToProto(m, out->Add());
}

}  // namespace kv::gossip
