/**
 * DeleteGroups (42): removes empty groups and their committed offsets (tombstones in
 * __consumer_offsets). NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND for none.
 */
import type { DeleteGroupsRequest, DeleteGroupsResponse } from '../../protocol/generated/messages/index.js';
import { defineHandler } from '../handler.js';
import { callCoordinator } from './group-outcome.js';

export const deleteGroupsHandler = defineHandler<DeleteGroupsRequest, DeleteGroupsResponse>({
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, context) {
    const results = [];
    for (const groupId of request.groupsNames) {
      const answer = await callCoordinator(context, 'delete', groupId, { op: 'delete', groupId });
      results.push({ groupId, errorCode: typeof answer === 'number' ? answer : answer.errorCode });
    }
    return { throttleTimeMs: 0, results };
  },
});
