/**
 * JoinGroup (11): held by the coordinator until the group's join phase completes (every member
 * rejoined, or the rebalance timeout passed), then answered with the generation, the chosen
 * protocol, the leader and, for the leader, every member's metadata. A dynamic member's first
 * join is answered MEMBER_ID_REQUIRED with its id from v4 (KIP-394).
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../../protocol/generated/messages/index.js';
import { defineHandler } from '../handler.js';
import { callCoordinator } from './group-outcome.js';

export const joinGroupHandler = defineHandler<JoinGroupRequest, JoinGroupResponse>({
  apiKey: 11,
  minVersion: 0,
  maxVersion: 7,
  async handle(request, context) {
    const answer = await callCoordinator(context, 'join', request.groupId, {
      op: 'join',
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      clientId: context.header.clientId ?? '',
      clientHost: context.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: context.apiVersion >= 1 ? request.rebalanceTimeoutMs ?? request.sessionTimeoutMs : request.sessionTimeoutMs,
      protocolType: request.protocolType,
      // Copied: the group keeps them, and request bytes are views into a frame buffer that is reused.
      protocols: request.protocols.map((protocol) => ({ name: protocol.name, metadata: protocol.metadata.slice() })),
      requireKnownMemberId: context.apiVersion >= 4,
    });
    if (typeof answer === 'number') {
      return { throttleTimeMs: 0, errorCode: answer, generationId: -1, protocolType: null, protocolName: context.apiVersion >= 7 ? null : '', leader: '', memberId: request.memberId, members: [] };
    }
    const result = answer.result;
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      generationId: result.generationId,
      protocolType: result.protocolType,
      // Before v7 the protocol name is not nullable.
      protocolName: context.apiVersion >= 7 || result.protocolName !== null ? result.protocolName : '',
      leader: result.leader,
      memberId: result.memberId,
      members: result.errorCode === ErrorCode.NONE ? result.members.map((member) => ({ memberId: member.memberId, groupInstanceId: member.groupInstanceId, metadata: member.metadata })) : [],
    };
  },
});
