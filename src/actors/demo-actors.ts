/**
 * The runtime demo that `samsa start` runs until the broker exists: a producer actor per worker
 * appends fake record batches to a "partition" actor on another worker, which acknowledges each
 * one; both report their counts to a main-thread reporter once a second.
 */
import type { ActorFactory } from '../runtime/actor.js';

type Body = { type: string; [key: string]: unknown };

const BATCH_BYTES = 16 * 1024;
const IN_FLIGHT_MAX = 64;

/** Holds `bytes` and `batches` of what it was sent; acknowledges every batch to its sender. */
export const partition: ActorFactory = (context) => {
  let batches = 0;
  let bytes = 0;
  return {
    async receive(message) {
      const body = message.body as Body;
      if (body.type === 'append') {
        batches++;
        bytes += message.data?.byteLength ?? 0;
        await context.send(message.from, { type: 'ack', sequence: body.sequence });
      } else if (body.type === 'stats') {
        await context.send(message.from, { type: 'partitionStats', batches, bytes });
      }
    },
  };
};

/** Keeps IN_FLIGHT_MAX batches in flight towards `args.partition`. */
export const producer: ActorFactory = (context, init) => {
  const { partition: target } = init.args as { partition: number };
  const batch = new Uint8Array(BATCH_BYTES).map((_, i) => i & 0xff);
  let sequence = 0;
  let acked = 0;
  const sendOne = () => context.send(target, { type: 'append', sequence: sequence++ }, batch);
  return {
    async receive(message) {
      const body = message.body as Body;
      if (body.type === 'start') {
        for (let i = 0; i < IN_FLIGHT_MAX; i++) await sendOne();
      } else if (body.type === 'ack') {
        acked++;
        await sendOne();
      } else if (body.type === 'stats') {
        await context.send(message.from, { type: 'producerStats', acked });
      }
    },
  };
};
