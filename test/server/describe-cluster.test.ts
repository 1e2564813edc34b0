/** DescribeCluster over a real socket: brokers, controller, cluster id, endpoint types. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { describeCluster } from './admin-requests.js';
import { removeScratchDirectories, startBrokers, type BrokerFixture } from './broker-fixture.js';
import { RawKafkaClient } from './raw-kafka-client.js';

let fixture: BrokerFixture;
let client: RawKafkaClient;

beforeAll(async () => {
  fixture = await startBrokers({ brokerCount: 3 });
  client = await RawKafkaClient.connect(fixture.port(2));
});

afterAll(async () => {
  client.close();
  await fixture.stop();
  removeScratchDirectories();
});

describe('DescribeCluster', () => {
  it('lists every broker, the controller and the cluster id (v0 and v1)', async () => {
    for (const version of [0, 1]) {
      const response = await describeCluster(client, { version });
      expect(response).toMatchObject({ errorCode: 0, errorMessage: null, clusterId: fixture.broker.controller.clusterId, controllerId: 0, endpointType: 1 });
      expect(response.brokers).toEqual([0, 1, 2].map((brokerId) => ({ brokerId, host: '127.0.0.1', port: fixture.port(brokerId), rack: null })));
      expect(response.clusterAuthorizedOperations).toBe(-2147483648);
    }
  });

  it('answers the authorized operations when asked: everything Kafka defines on a cluster (no authorizer)', async () => {
    const response = await describeCluster(client, { includeClusterAuthorizedOperations: true });
    const operations = [5, 7, 8, 9, 10, 11, 12]; // CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE
    expect(response.clusterAuthorizedOperations).toBe(operations.reduce((bits, code) => bits | (1 << code), 0));
    expect(response.clusterAuthorizedOperations & (1 << 3)).toBe(0); // READ is not a cluster operation
  });

  it('refuses controller and unknown endpoint types as a broker does', async () => {
    expect(await describeCluster(client, { endpointType: 2 })).toMatchObject({ errorCode: ErrorCode.MISMATCHED_ENDPOINT_TYPE, brokers: [] });
    expect(await describeCluster(client, { endpointType: 9 })).toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, brokers: [] });
  });
});
