/**
 * Entry point of every worker thread: builds this thread's ThreadNode from the bootstrap the
 * supervisor passed in workerData, then carries out supervision commands.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Directory } from './directory.js';
import { Doorbell } from './doorbell.js';
import { createLogger } from './logger.js';
import type { SupervisorCommand, WorkerBootstrap, WorkerReport } from './supervision.js';
import { ThreadNode } from './thread-node.js';

const bootstrap = workerData as WorkerBootstrap;
const port = parentPort!;
const log = createLogger('samsa-worker', { thread: bootstrap.threadIndex });
const doorbells = bootstrap.doorbells.map((buffer) => new Doorbell(buffer));

function report(message: WorkerReport): void {
  port.postMessage(message);
}

const node = new ThreadNode({
  threadIndex: bootstrap.threadIndex,
  directory: new Directory(bootstrap.directory),
  doorbell: doorbells[bootstrap.threadIndex]!,
  log,
  onCrash: (id, error) => report({ op: 'crashed', id, message: error.message, stack: error.stack }),
});

bootstrap.toPeers.forEach((toPeer, peer) => {
  const fromPeer = bootstrap.fromPeers[peer];
  if (toPeer && fromPeer) node.connectPeer(peer, toPeer, doorbells[peer]!, fromPeer);
});
node.startPump();

async function reply(requestId: number, work: () => unknown): Promise<void> {
  try {
    const result = await work();
    report({ op: 'reply', requestId, result });
  } catch (error) {
    report({ op: 'reply', requestId, error: error instanceof Error ? error.message : String(error) });
  }
}

port.on('message', (command: SupervisorCommand) => {
  switch (command.op) {
    case 'spawn':
      void reply(command.requestId, () => node.spawn(command.id, command.spec, command.state, command.restarts));
      break;
    case 'restart':
      node.restart(command.id);
      break;
    case 'stop':
      void reply(command.requestId, () => node.stop(command.id, command.normal));
      break;
    case 'prepare':
      void reply(command.requestId, () => node.prepare(command.id, command.spec));
      break;
    case 'release':
      void reply(command.requestId, () => node.release(command.id, command.to));
      break;
    case 'adopt':
      void reply(command.requestId, () => node.adopt(command.id, command.state));
      break;
    case 'peer':
      node.connectPeer(command.peer, command.toPeer, doorbells[command.peer]!, command.fromPeer);
      break;
    case 'shutdown':
      void reply(command.requestId, async () => {
        await node.shutdown();
        port.close();
      });
      break;
  }
});

report({ op: 'ready' });
