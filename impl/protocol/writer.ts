/**
 * Encoding of Kafka wire primitives into a list of chunks.
 *
 * Small fields go into a growing scratch buffer; large byte fields (record
 * batches read from segment files) are appended as their own chunks so a
 * fetch response never copies the data it serves.
 */

const scratchBytesInitial = 256;
/** Byte fields at least this large are kept as separate chunks instead of copied. */
const zeroCopyBytesMin = 4096;

export class Writer {
  private chunks: Buffer[] = [];
  private scratch: Buffer = Buffer.allocUnsafe(scratchBytesInitial);
  private used = 0;
  private flushedBytes = 0;

  /** Total bytes written so far. */
  get length(): number {
    return this.flushedBytes + this.used;
  }

  private ensure(bytes: number): void {
    if (this.used + bytes <= this.scratch.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.used + bytes));
    this.scratch.copy(grown, 0, 0, this.used);
    this.scratch = grown;
  }

  private flushScratch(): void {
    if (this.used === 0) return;
    this.chunks.push(this.scratch.subarray(0, this.used));
    this.flushedBytes += this.used;
    this.scratch = Buffer.allocUnsafe(Math.max(scratchBytesInitial, this.scratch.length - this.used));
    this.used = 0;
  }

  int8(value: number): this {
    this.ensure(1);
    this.scratch.writeInt8(value, this.used);
    this.used += 1;
    return this;
  }

  uint8(value: number): this {
    this.ensure(1);
    this.scratch[this.used++] = value;
    return this;
  }

  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  int16(value: number): this {
    this.ensure(2);
    this.scratch.writeInt16BE(value, this.used);
    this.used += 2;
    return this;
  }

  uint16(value: number): this {
    this.ensure(2);
    this.scratch.writeUInt16BE(value, this.used);
    this.used += 2;
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.scratch.writeInt32BE(value, this.used);
    this.used += 4;
    return this;
  }

  uint32(value: number): this {
    this.ensure(4);
    this.scratch.writeUInt32BE(value, this.used);
    this.used += 4;
    return this;
  }

  int64(value: bigint): this {
    this.ensure(8);
    this.scratch.writeBigInt64BE(value, this.used);
    this.used += 8;
    return this;
  }

  float64(value: number): this {
    this.ensure(8);
    this.scratch.writeDoubleBE(value, this.used);
    this.used += 8;
    return this;
  }

  uuid(hex: string): this {
    if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`not a 32-digit hex uuid: ${hex}`);
    this.ensure(16);
    this.scratch.write(hex, this.used, 16, "hex");
    this.used += 16;
    return this;
  }

  unsignedVarint(value: number): this {
    let remaining = value >>> 0;
    this.ensure(5);
    while (remaining >= 0x80) {
      this.scratch[this.used++] = (remaining & 0x7f) | 0x80;
      remaining >>>= 7;
    }
    this.scratch[this.used++] = remaining;
    return this;
  }

  varint(value: number): this {
    return this.unsignedVarint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  varlong(value: bigint): this {
    let remaining = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    this.ensure(10);
    while (remaining >= 0x80n) {
      this.scratch[this.used++] = Number(remaining & 0x7fn) | 0x80;
      remaining >>= 7n;
    }
    this.scratch[this.used++] = Number(remaining);
    return this;
  }

  nullableString(value: string | null): this {
    if (value === null) return this.int16(-1);
    const length = Buffer.byteLength(value);
    this.int16(length);
    this.ensure(length);
    this.used += this.scratch.write(value, this.used, "utf8");
    return this;
  }

  compactNullableString(value: string | null): this {
    if (value === null) return this.unsignedVarint(0);
    const length = Buffer.byteLength(value);
    this.unsignedVarint(length + 1);
    this.ensure(length);
    this.used += this.scratch.write(value, this.used, "utf8");
    return this;
  }

  /** Raw bytes with no length prefix. */
  raw(bytes: Buffer): this {
    if (bytes.length >= zeroCopyBytesMin) {
      this.flushScratch();
      this.chunks.push(bytes);
      this.flushedBytes += bytes.length;
      return this;
    }
    this.ensure(bytes.length);
    bytes.copy(this.scratch, this.used);
    this.used += bytes.length;
    return this;
  }

  nullableBytes(value: Buffer | null): this {
    if (value === null) return this.int32(-1);
    return this.int32(value.length).raw(value);
  }

  compactNullableBytes(value: Buffer | null): this {
    if (value === null) return this.unsignedVarint(0);
    return this.unsignedVarint(value.length + 1).raw(value);
  }

  /** The encoded bytes as chunks, ready for a vectored socket write. */
  toChunks(): Buffer[] {
    this.flushScratch();
    return this.chunks;
  }

  toBuffer(): Buffer {
    const chunks = this.toChunks();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.flushedBytes);
  }
}
