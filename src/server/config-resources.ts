/**
 * The resources that DescribeConfigs, AlterConfigs and IncrementalAlterConfigs name, resolved
 * with the error Kafka gives for each one it cannot serve:
 *
 *   TOPIC "orders"          the topic; INVALID_TOPIC_EXCEPTION for a bad name,
 *                           UNKNOWN_TOPIC_OR_PARTITION for one that does not exist
 *   BROKER "1"              broker 1's settings (every broker of the process shares them)
 *   BROKER ""               the cluster-wide dynamic defaults: there are none here
 *   BROKER_LOGGER, others   INVALID_REQUEST
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { ErrorCodeName } from '../protocol/kafka-error.js';
import { topicNameError, type TopicState } from './controller-state.js';
import type { RequestContext } from './handler.js';

/** Kafka's ConfigResource.Type values. */
export const ConfigResourceType = {
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
} as const;

export type ConfigResource =
  | { readonly kind: 'topic'; readonly topic: TopicState }
  /** nodeId undefined: the cluster-wide default (resource name ""). */
  | { readonly kind: 'broker'; readonly nodeId: number | undefined }
  | { readonly kind: 'error'; readonly error: ErrorCodeName; readonly message: string };

export function resolveConfigResource(resourceType: number, resourceName: string, context: RequestContext): ConfigResource {
  switch (resourceType) {
    case ConfigResourceType.TOPIC: {
      const nameError = topicNameError(resourceName);
      if (nameError) return { kind: 'error', error: 'INVALID_TOPIC_EXCEPTION', message: nameError };
      const topic = context.cluster.controller.topic(resourceName);
      if (!topic) return { kind: 'error', error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `topic '${resourceName}' does not exist` };
      return { kind: 'topic', topic };
    }
    case ConfigResourceType.BROKER: {
      if (resourceName === '') return { kind: 'broker', nodeId: undefined };
      const nodeId = /^\d+$/.test(resourceName) ? Number(resourceName) : NaN;
      if (!context.cluster.brokers.some((broker) => broker.nodeId === nodeId)) {
        return { kind: 'error', error: 'INVALID_REQUEST', message: `unexpected broker id '${resourceName}': brokers are 0 to ${context.cluster.brokers.length - 1}, or '' for the cluster default` };
      }
      return { kind: 'broker', nodeId };
    }
    case ConfigResourceType.BROKER_LOGGER:
      return { kind: 'error', error: 'INVALID_REQUEST', message: 'broker loggers are not served; set SAMSA_LOG_LEVEL at start' };
    default:
      return { kind: 'error', error: 'INVALID_REQUEST', message: `unsupported resource type ${resourceType}` };
  }
}

/** Alter requests: how many times each resource appears (a resource named twice is refused). */
function resourceCounts(resources: readonly { resourceType: number; resourceName: string }[]): (resource: { resourceType: number; resourceName: string }) => number {
  const counts = new Map<string, number>();
  const key = (resource: { resourceType: number; resourceName: string }) => `${resource.resourceType}:${resource.resourceName}`;
  for (const resource of resources) counts.set(key(resource), (counts.get(key(resource)) ?? 0) + 1);
  return (resource) => counts.get(key(resource)) ?? 0;
}

/** The first config name given twice, if any. */
function duplicateConfigName(configs: readonly { name: string }[]): string | undefined {
  const seen = new Set<string>();
  for (const { name } of configs) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

/**
 * Broker settings are read at start and there are no dynamic broker configs: a change is refused
 * with INVALID_CONFIG, as Kafka refuses a setting that cannot be updated dynamically. An empty
 * change succeeds (there is nothing to replace).
 */
function refuseBrokerChange(configCount: number): { error: ErrorCodeName; message: string } | undefined {
  if (configCount === 0) return undefined;
  return { error: 'INVALID_CONFIG', message: 'broker settings are read at start (server.properties, --override) and cannot be changed at run time' };
}

export type Refusal = { readonly error: ErrorCodeName; readonly message: string };

/** A topic's explicit configs after an alter request's change, or why the change is refused. */
export type TopicConfigsChange = { readonly configs: Record<string, string> } | Refusal;

interface AlterResource {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly configs: readonly { readonly name: string }[];
}

interface AlterResourceResponse {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

/** How AlterConfigs and IncrementalAlterConfigs differ; the rest of their handling is shared. */
export interface ConfigAlteration<Resource extends AlterResource> {
  /** A refusal checked for every resource kind, after the resource is found. */
  readonly refuse?: (resource: Resource) => Refusal | undefined;
  /** The topic's explicit configs once the resource's change is made. */
  readonly topicConfigs: (resource: Resource, topic: TopicState) => TopicConfigsChange;
  /** Logged with the topic and its new configs when a change is stored. */
  readonly logMessage: string;
}

/**
 * Answers an alter request, one resource after the other: a resource named twice, an unknown
 * one, a config named twice and (for brokers) any change are refused; a topic's new configs are
 * validated and stored by the controller (unless validateOnly).
 */
export async function alterConfigResources<Resource extends AlterResource>(
  resources: readonly Resource[],
  validateOnly: boolean,
  context: RequestContext,
  alteration: ConfigAlteration<Resource>,
): Promise<AlterResourceResponse[]> {
  const count = resourceCounts(resources);
  const responses: AlterResourceResponse[] = [];
  for (const resource of resources) responses.push(await alterResource(resource, validateOnly, count(resource) > 1, context, alteration));
  return responses;
}

async function alterResource<Resource extends AlterResource>(
  resource: Resource,
  validateOnly: boolean,
  duplicated: boolean,
  context: RequestContext,
  alteration: ConfigAlteration<Resource>,
): Promise<AlterResourceResponse> {
  const { resourceType, resourceName } = resource;
  const answer = (refusal?: Refusal): AlterResourceResponse =>
    ({ errorCode: refusal ? ErrorCode[refusal.error] : ErrorCode.NONE, errorMessage: refusal?.message ?? null, resourceType, resourceName });
  if (duplicated) return answer({ error: 'INVALID_REQUEST', message: `resource '${resourceName}' appears more than once in the request` });
  const found = resolveConfigResource(resourceType, resourceName, context);
  if (found.kind === 'error') return answer(found);
  const duplicate = duplicateConfigName(resource.configs);
  if (duplicate !== undefined) return answer({ error: 'INVALID_REQUEST', message: `config '${duplicate}' appears more than once` });
  const refused = alteration.refuse?.(resource);
  if (refused) return answer(refused);
  if (found.kind === 'broker') return answer(refuseBrokerChange(resource.configs.length));
  const changed = alteration.topicConfigs(resource, found.topic);
  if ('error' in changed) return answer(changed);
  const result = await context.cluster.alterTopicConfigs(found.topic.name, changed.configs, validateOnly);
  if ('error' in result) return answer(result);
  if (!validateOnly) context.log.info({ topic: found.topic.name, configs: changed.configs }, alteration.logMessage);
  return answer();
}
