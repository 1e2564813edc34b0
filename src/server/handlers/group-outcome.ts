/**
 * The group handlers' shared step: a call to the group's coordinator, and either its answer or
 * the error code that takes its place (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE,
 * COORDINATOR_LOAD_IN_PROGRESS, INVALID_GROUP_ID) for the handler to put in its response.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { GroupAnswer, GroupCall } from '../../groups/group-calls.js';
import type { RequestContext } from '../handler.js';

export type Answer<Op extends GroupAnswer['op']> = Extract<GroupAnswer, { op: Op }>;

/** The answer to `call`, or the error code standing for it. */
export async function callCoordinator<Op extends GroupAnswer['op']>(context: RequestContext, op: Op, groupId: string, call: GroupCall): Promise<Answer<Op> | number> {
  if (groupId === '' && op !== 'fetch-offsets' && op !== 'describe') return ErrorCode.INVALID_GROUP_ID;
  const outcome = await context.cluster.groups.call(groupId, call);
  if (outcome.op === 'error') return outcome.errorCode;
  if (outcome.op !== op) return ErrorCode.UNKNOWN_SERVER_ERROR;
  return outcome as Answer<Op>;
}
