/**
 * DescribeGroups (15): each group's state, protocol and members (with their metadata and
 * assignment once the group is stable). A group no coordinator knows is reported "Dead".
 */
import type { DescribeGroupsRequest, DescribeGroupsResponse } from '../../protocol/generated/messages/index.js';
import type { DescribedGroup } from '../../protocol/generated/messages/describe-groups-response.js';
import { defineHandler } from '../handler.js';
import { callCoordinator } from './group-outcome.js';

/** Kafka's "not asked for" value of authorizedOperations. */
const OPERATIONS_NOT_INCLUDED = -2147483648;

export const describeGroupsHandler = defineHandler<DescribeGroupsRequest, DescribeGroupsResponse>({
  apiKey: 15,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, context) {
    const groups: DescribedGroup[] = [];
    for (const groupId of request.groups) {
      const answer = await callCoordinator(context, 'describe', groupId, { op: 'describe', groupId });
      if (typeof answer === 'number') {
        groups.push({ errorCode: answer, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: OPERATIONS_NOT_INCLUDED });
        continue;
      }
      const group = answer.group;
      groups.push({
        errorCode: group.errorCode,
        groupId,
        groupState: group.state,
        protocolType: group.protocolType,
        protocolData: group.protocolName,
        members: group.members.map((member) => ({
          memberId: member.memberId,
          groupInstanceId: member.groupInstanceId,
          clientId: member.clientId,
          clientHost: member.clientHost,
          memberMetadata: member.metadata,
          memberAssignment: member.assignment,
        })),
        authorizedOperations: OPERATIONS_NOT_INCLUDED,
      });
    }
    return { throttleTimeMs: 0, groups };
  },
});
