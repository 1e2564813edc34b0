/**
 * ListGroups (16): the groups this broker coordinates (as in Kafka, a client asks every broker),
 * with their protocol type and, from v4, their state (filtered by statesFilter).
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { ListGroupsRequest, ListGroupsResponse } from '../../protocol/generated/messages/index.js';
import type { ListedGroup } from '../../protocol/generated/messages/list-groups-response.js';
import { defineHandler } from '../handler.js';

export const listGroupsHandler = defineHandler<ListGroupsRequest, ListGroupsResponse>({
  apiKey: 16,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, context) {
    const outcomes = await context.cluster.groups.callEach({ op: 'list', statesFilter: request.statesFilter ?? [] });
    const groups: ListedGroup[] = [];
    let errorCode: number = ErrorCode.NONE;
    for (const outcome of outcomes) {
      if (outcome.op !== 'list') {
        errorCode = outcome.op === 'error' ? outcome.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
        continue;
      }
      for (const group of outcome.groups) groups.push({ groupId: group.groupId, protocolType: group.protocolType, groupState: group.state });
    }
    groups.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
    return { throttleTimeMs: 0, errorCode, groups };
  },
});
