/**
 * LeaveGroup (13): members leave at once (the others rebalance without waiting for a session
 * timeout). v0-2 name one member; v3+ a batch, each by member id or by group.instance.id alone.
 */
import type { LeaveGroupRequest, LeaveGroupResponse } from '../../protocol/generated/messages/index.js';
import { defineHandler } from '../handler.js';
import { callCoordinator } from './group-outcome.js';

export const leaveGroupHandler = defineHandler<LeaveGroupRequest, LeaveGroupResponse>({
  apiKey: 13,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, context) {
    const batched = context.apiVersion >= 3;
    const members = batched
      ? (request.members ?? []).map((member) => ({ memberId: member.memberId, groupInstanceId: member.groupInstanceId }))
      : [{ memberId: request.memberId ?? '', groupInstanceId: null }];
    const answer = await callCoordinator(context, 'leave', request.groupId, { op: 'leave', groupId: request.groupId, members });
    if (typeof answer === 'number') return { throttleTimeMs: 0, errorCode: answer, members: [] };
    if (!batched) return { throttleTimeMs: 0, errorCode: answer.members[0]?.errorCode ?? answer.errorCode };
    return { throttleTimeMs: 0, errorCode: answer.errorCode, members: answer.members.map((member) => ({ ...member })) };
  },
});
