/**
 * FindCoordinator (10): which broker coordinates a group (key type 0) or a transactional id
 * (key type 1): the leader of its partition of __consumer_offsets / __transaction_state, created
 * on first use. v4 looks up several keys at once.
 */
import { COORDINATOR_KEY_GROUP } from '../../groups/internal-topics.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { FindCoordinatorRequest, FindCoordinatorResponse } from '../../protocol/generated/messages/index.js';
import type { Coordinator } from '../../protocol/generated/messages/find-coordinator-response.js';
import { defineHandler, type RequestContext } from '../handler.js';

async function locate(context: RequestContext, key: string, keyType: number): Promise<Coordinator> {
  if (key === '') return { key, nodeId: -1, host: '', port: -1, errorCode: keyType === COORDINATOR_KEY_GROUP ? ErrorCode.INVALID_GROUP_ID : ErrorCode.INVALID_REQUEST, errorMessage: 'empty key' };
  const found = await context.cluster.groups.findCoordinator(key, keyType);
  return {
    key,
    nodeId: found.node?.nodeId ?? -1,
    host: found.node?.host ?? '',
    port: found.node?.port ?? -1,
    errorCode: found.errorCode,
    errorMessage: found.errorMessage,
  };
}

export const findCoordinatorHandler = defineHandler<FindCoordinatorRequest, FindCoordinatorResponse>({
  apiKey: 10,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, context) {
    const keyType = request.keyType ?? COORDINATOR_KEY_GROUP;
    if (context.apiVersion >= 4) {
      const coordinators: Coordinator[] = [];
      for (const key of request.coordinatorKeys ?? []) coordinators.push(await locate(context, key, keyType));
      return { throttleTimeMs: 0, coordinators };
    }
    const found = await locate(context, request.key ?? '', keyType);
    return { throttleTimeMs: 0, errorCode: found.errorCode, errorMessage: found.errorMessage, nodeId: found.nodeId, host: found.host, port: found.port };
  },
});
