/**
 * Bounds-checked walking of a compressed input made of frames, as lz4-codec.ts and zstd-codec.ts
 * estimate their output before inflating. LZ4 and zstd share the skippable frame: magic
 * 0x184D2A50-0x184D2A5F (u32 LE), a u32 LE size, then that many bytes to pass over.
 */
import type { CodecError } from './codecs-errors.js';

export class FrameInput {
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    private readonly corrupt: (detail: string) => CodecError,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws the codec's corrupt-input error unless `length` bytes are there at `at`. */
  need(at: number, length: number, what: string): void {
    if (at + length > this.bytes.byteLength) throw this.corrupt(`truncated ${what}`);
  }

  /**
   * Calls `frame` with the start of each frame, in order, skippable ones passed over; `frame`
   * returns where its frame ends. Every other frame must start with `magic` (`codec` names it).
   */
  walk(magic: number, codec: string, frame: (at: number) => number): void {
    let at = 0;
    while (at < this.bytes.byteLength) {
      this.need(at, 4, 'frame magic');
      const found = this.view.getUint32(at, true);
      if ((found & 0xfffffff0) >>> 0 === 0x184d2a50) {
        this.need(at + 4, 4, 'skippable frame');
        at += 8 + this.view.getUint32(at + 4, true);
        this.need(at, 0, 'skippable frame');
        continue;
      }
      if (found !== magic) throw this.corrupt(`not ${codec} frame (magic ${found.toString(16)})`);
      at = frame(at);
      this.need(at, 0, 'frame end');
    }
  }
}
