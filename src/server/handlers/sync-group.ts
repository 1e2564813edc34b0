/**
 * SyncGroup (14): the leader sends the assignment it computed; every member's SyncGroup is held
 * until then (and until the group's metadata is written), and answered with its own part.
 */
import type { SyncGroupRequest, SyncGroupResponse } from '../../protocol/generated/messages/index.js';
import { defineHandler } from '../handler.js';
import { callCoordinator } from './group-outcome.js';

const EMPTY = new Uint8Array(0);

export const syncGroupHandler = defineHandler<SyncGroupRequest, SyncGroupResponse>({
  apiKey: 14,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, context) {
    const answer = await callCoordinator(context, 'sync', request.groupId, {
      op: 'sync',
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      generationId: request.generationId,
      protocolType: request.protocolType ?? null,
      protocolName: request.protocolName ?? null,
      // Copied: the group keeps them, and request bytes are views into a frame buffer that is reused.
      assignments: request.assignments.map((entry) => ({ memberId: entry.memberId, assignment: entry.assignment.slice() })),
    });
    if (typeof answer === 'number') return { throttleTimeMs: 0, errorCode: answer, protocolType: null, protocolName: null, assignment: EMPTY };
    const { result } = answer;
    return { throttleTimeMs: 0, errorCode: result.errorCode, protocolType: result.protocolType, protocolName: result.protocolName, assignment: result.assignment };
  },
});
