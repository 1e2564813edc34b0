/**
 * What an actor is, as seen by the code that writes one.
 *
 * An actor has an address (a number unique in the runtime), a bounded mailbox, and a handler
 * that processes one message at a time: the next message is delivered only after the handler's
 * promise settles. Actors share no mutable state; they talk only through `context.send`.
 *
 * The same actor code runs on worker threads (ThreadRuntime) and on one thread under a seeded
 * scheduler (DeterministicRuntime), because everything it touches besides its messages (time,
 * timers, randomness, logging) comes from its context.
 */
import type { Logger } from 'pino';

export type Address = number;

export interface Message {
  /** Sender's address, or NO_ADDRESS for a message from outside any actor. */
  readonly from: Address;
  /** The control part: any msgpackr-encodable value (plain objects, arrays, strings, numbers). */
  readonly body: unknown;
  /**
   * The data part (e.g. record-batch bytes). Across threads it is a view into the ring the
   * message came through, valid only until the handler's promise settles: copy what you keep.
   */
  readonly data: Uint8Array | undefined;
}

export const NO_ADDRESS: Address = 0;

export interface ActorContext {
  readonly self: Address;
  /**
   * Sends a message. Resolves once it is queued in the receiver's mailbox or in the ring towards
   * its thread; it waits (asynchronously) while that mailbox or ring is full, so await it.
   */
  send(to: Address, body: unknown, data?: Uint8Array): Promise<void>;
  /** Milliseconds: wall clock on threads, virtual time under the deterministic scheduler. */
  now(): number;
  /** A float in [0, 1): Math.random on threads, the seeded generator under simulation. */
  random(): number;
  /** Delivers `body` to this actor after `delayMs` (a message from itself). */
  schedule(delayMs: number, body: unknown): number;
  cancel(timer: number): void;
  /**
   * Starts a child actor on this actor's thread. `args` reach its factory as they are (same
   * thread, no copy: a child may share objects such as an open log with its parent). A child
   * that crashes is restarted in place while the restart intensity allows (10 in 10 s), then
   * stopped; it is not moved or respawned by the supervisor, and dies with its thread.
   */
  spawnChild(factory: ActorFactory, args?: unknown, options?: { readonly mailboxCapacity?: number }): Address;
  /** Stops a child: its current message finishes, stop() runs, what is queued is dropped. */
  stopChild(id: Address): Promise<void>;
  readonly log: Logger;
}

export interface Actor {
  receive(message: Message): void | Promise<void>;
  /** Called before the actor moves to another thread: a msgpackr-encodable snapshot. */
  exportState?(): unknown;
  /** Called when the actor stops (not after a crash). */
  stop?(): void | Promise<void>;
}

export interface ActorInit {
  readonly args: unknown;
  /** The snapshot from exportState when the actor moved here; undefined on a fresh start. */
  readonly state: unknown;
  /** How many times this actor has been restarted after a crash. */
  readonly restarts: number;
}

export type ActorFactory = (context: ActorContext, init: ActorInit) => Actor;

/**
 * permanent: always restarted after a crash; transient: restarted after a crash but not after
 * a normal stop; temporary: never restarted.
 */
export type RestartPolicy = 'permanent' | 'transient' | 'temporary';

export interface ActorSpec {
  /** URL (file:) of an ES module that exports the factory. */
  readonly module: string;
  /** Name of the factory export. */
  readonly factory: string;
  readonly args?: unknown;
  readonly restart?: RestartPolicy;
  /** Mailbox bound, in messages. */
  readonly mailboxCapacity?: number;
}

export const DEFAULT_MAILBOX_CAPACITY = 1024;
export const MAILBOX_CAPACITY_MAX = 1 << 20;
