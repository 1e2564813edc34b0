/**
 * DeleteTopics (20): removes each topic from the metadata log, then deletes its partition logs.
 * Up to v5 topics are named; v6 names each by name or by topic id (exactly one of the two).
 * A topic named twice is refused (INVALID_REQUEST), an unknown name gets
 * UNKNOWN_TOPIC_OR_PARTITION, an unknown id UNKNOWN_TOPIC_ID. Deletion is synchronous here, so
 * the answer comes when the topic is gone, never with REQUEST_TIMED_OUT.
 */
import { ErrorCode, type ErrorCodeName } from '../../protocol/generated/error-codes.js';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from '../../protocol/generated/messages/index.js';
import type { DeletableTopicResult } from '../../protocol/generated/messages/delete-topics-response.js';
import { ZERO_UUID } from '../../protocol/uuid.js';
import { defineHandler, type RequestContext } from '../handler.js';

/** One entry of the request: a name (v0-5, or v6 by name) or a topic id (v6). */
interface Deletion {
  readonly name: string | null;
  readonly topicId: string;
}

async function deleteOne(deletion: Deletion, duplicated: boolean, context: RequestContext): Promise<DeletableTopicResult> {
  const byId = context.apiVersion >= 6 && deletion.topicId !== ZERO_UUID;
  const found = byId ? context.cluster.controller.topicById(deletion.topicId) : deletion.name === null ? undefined : context.cluster.controller.topic(deletion.name);
  const name = deletion.name ?? found?.name ?? null;
  const answer = (error?: ErrorCodeName, message?: string): DeletableTopicResult => ({
    name,
    topicId: context.apiVersion >= 6 ? found?.topicId ?? deletion.topicId : undefined,
    errorCode: error ? ErrorCode[error] : ErrorCode.NONE,
    errorMessage: message ?? null,
  });
  if (byId && deletion.name !== null) return answer('INVALID_REQUEST', 'a topic may be named by name or by id, not both');
  if (!byId && deletion.name === null) return answer('INVALID_REQUEST', 'neither a topic name nor a topic id was given');
  if (duplicated) return answer('INVALID_REQUEST', `topic ${deletion.name ?? deletion.topicId} appears more than once in the request`);
  if (!found) return byId ? answer('UNKNOWN_TOPIC_ID', `no topic has id ${deletion.topicId}`) : answer('UNKNOWN_TOPIC_OR_PARTITION', `topic '${deletion.name}' does not exist`);
  const result = await context.cluster.deleteTopic(found.name);
  if ('error' in result) return answer(result.error, result.message);
  context.log.info({ topic: found.name, topicId: found.topicId }, 'topic deleted');
  return answer();
}

export const deleteTopicsHandler = defineHandler<DeleteTopicsRequest, DeleteTopicsResponse>({
  apiKey: 20,
  minVersion: 1,
  maxVersion: 6,
  async handle(request, context) {
    const deletions: Deletion[] = context.apiVersion >= 6
      ? (request.topics ?? []).map((topic) => ({ name: topic.name, topicId: topic.topicId }))
      : (request.topicNames ?? []).map((name) => ({ name, topicId: ZERO_UUID }));
    const counts = new Map<string, number>();
    const key = (deletion: Deletion) => deletion.name ?? `id:${deletion.topicId}`;
    for (const deletion of deletions) counts.set(key(deletion), (counts.get(key(deletion)) ?? 0) + 1);
    const responses: DeletableTopicResult[] = [];
    for (const deletion of deletions) responses.push(await deleteOne(deletion, counts.get(key(deletion))! > 1, context));
    return { throttleTimeMs: 0, responses };
  },
});
