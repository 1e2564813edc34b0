/**
 * Heartbeat (12): keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin,
 * ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID that it is out of the group.
 */
import type { HeartbeatRequest, HeartbeatResponse } from '../../protocol/generated/messages/index.js';
import { defineHandler } from '../handler.js';
import { callCoordinator } from './group-outcome.js';

export const heartbeatHandler = defineHandler<HeartbeatRequest, HeartbeatResponse>({
  apiKey: 12,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, context) {
    const answer = await callCoordinator(context, 'heartbeat', request.groupId, {
      op: 'heartbeat',
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      generationId: request.generationId,
    });
    return { throttleTimeMs: 0, errorCode: typeof answer === 'number' ? answer : answer.errorCode };
  },
});
