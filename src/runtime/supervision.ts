/**
 * The supervision plane between the supervisor (main thread) and each worker. These few
 * messages travel by postMessage: they carry SharedArrayBuffers (which can only be shared that
 * way) and happen at spawn, crash, move and restart, never per data message.
 */
import type { ActorSpec, Address } from './actor.js';

export interface WorkerBootstrap {
  readonly threadIndex: number;
  readonly directory: SharedArrayBuffer;
  /** One doorbell per thread, indexed by thread. */
  readonly doorbells: SharedArrayBuffer[];
  /** toPeers[j]: ring from this thread to thread j (null for itself). */
  readonly toPeers: (SharedArrayBuffer | null)[];
  /** fromPeers[j]: ring from thread j to this thread. */
  readonly fromPeers: (SharedArrayBuffer | null)[];
}

export type SupervisorCommand =
  | { op: 'spawn'; requestId: number; id: Address; spec: ActorSpec; state: unknown; restarts: number }
  | { op: 'restart'; id: Address }
  | { op: 'stop'; requestId: number; id: Address; normal: boolean }
  | { op: 'prepare'; requestId: number; id: Address; spec: ActorSpec }
  | { op: 'release'; requestId: number; id: Address; to: number }
  | { op: 'adopt'; requestId: number; id: Address; state: unknown }
  | { op: 'peer'; peer: number; toPeer: SharedArrayBuffer; fromPeer: SharedArrayBuffer }
  | { op: 'shutdown'; requestId: number };

export type WorkerReport =
  | { op: 'ready' }
  | { op: 'reply'; requestId: number; result?: unknown; error?: string }
  | { op: 'crashed'; id: Address; message: string; stack: string | undefined };
