/**
 * DescribeCluster (60): the brokers of the process, the controller and the cluster id; what
 * Metadata also says, without topics. Brokers answer for endpoint type 1 (brokers) only: type 2
 * (controllers) gets MISMATCHED_ENDPOINT_TYPE, any other UNSUPPORTED_ENDPOINT_TYPE, as from
 * Kafka's brokers.
 *
 * There is no authorizer, so every operation on the cluster is allowed: asked for them
 * (includeClusterAuthorizedOperations), the answer lists every operation Kafka defines on the
 * cluster resource.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { DescribeClusterRequest, DescribeClusterResponse } from '../../protocol/generated/messages/index.js';
import { CONTROLLER_NODE_ID } from '../controller.js';
import { defineHandler } from '../handler.js';

const BROKER_ENDPOINT = 1;
const CONTROLLER_ENDPOINT = 2;

/** "Not asked for": Kafka's default for authorized operations. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/** Kafka's AclOperation codes allowed on the cluster resource (AclEntry.supportedOperations). */
const CLUSTER_OPERATIONS = { CREATE: 5, ALTER: 7, DESCRIBE: 8, CLUSTER_ACTION: 9, DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12 };
export const CLUSTER_AUTHORIZED_OPERATIONS = Object.values(CLUSTER_OPERATIONS).reduce((bits, code) => bits | (1 << code), 0);

export const describeClusterHandler = defineHandler<DescribeClusterRequest, DescribeClusterResponse>({
  apiKey: 60,
  minVersion: 0,
  maxVersion: 1,
  handle(request, context) {
    const endpointType = request.endpointType ?? BROKER_ENDPOINT;
    if (endpointType !== BROKER_ENDPOINT) {
      const mismatched = endpointType === CONTROLLER_ENDPOINT;
      return {
        throttleTimeMs: 0,
        errorCode: mismatched ? ErrorCode.MISMATCHED_ENDPOINT_TYPE : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: mismatched ? 'this is a broker endpoint; controllers are not reachable on their own' : `unsupported endpoint type ${endpointType}`,
        clusterId: '',
        controllerId: -1,
        brokers: [],
        clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      };
    }
    const { cluster } = context;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      clusterId: cluster.controller.clusterId,
      controllerId: CONTROLLER_NODE_ID,
      brokers: cluster.brokers.map((broker) => ({ brokerId: broker.nodeId, host: broker.host, port: broker.port, rack: null })),
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? CLUSTER_AUTHORIZED_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED,
    };
  },
});
