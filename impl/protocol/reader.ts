/**
 * Bounds-checked reading of Kafka wire primitives.
 *
 * Every length and count read off the wire is checked against the bytes that
 * remain in the frame and against a configured cap before anything is
 * allocated, so a hostile or broken peer can only cost us the frame it sent.
 */

export class DecodeError extends Error {
  override readonly name = "DecodeError";
}

export interface DecodeLimits {
  /** Longest string (in bytes) accepted from the wire. */
  stringBytesMax: number;
  /** Largest element count accepted for any array. */
  arrayLengthMax: number;
  /** Largest bytes/records field accepted. */
  bytesFieldMax: number;
}

export const defaultDecodeLimits: DecodeLimits = {
  stringBytesMax: 32_767,
  arrayLengthMax: 1_000_000,
  bytesFieldMax: 100 * 1024 * 1024,
};

export class Reader {
  private position: number;

  constructor(
    readonly buffer: Buffer,
    start = 0,
    private readonly end = buffer.length,
    readonly limits: DecodeLimits = defaultDecodeLimits,
  ) {
    this.position = start;
  }

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  private need(bytes: number, what: string): void {
    if (bytes > this.end - this.position) {
      throw new DecodeError(
        `${what} needs ${bytes} bytes at offset ${this.position} but only ${this.end - this.position} remain`,
      );
    }
  }

  skip(bytes: number): void {
    this.need(bytes, "skip");
    this.position += bytes;
  }

  int8(): number {
    this.need(1, "int8");
    return this.buffer.readInt8(this.position++);
  }

  uint8(): number {
    this.need(1, "uint8");
    return this.buffer[this.position++]!;
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2, "int16");
    const value = this.buffer.readInt16BE(this.position);
    this.position += 2;
    return value;
  }

  uint16(): number {
    this.need(2, "uint16");
    const value = this.buffer.readUInt16BE(this.position);
    this.position += 2;
    return value;
  }

  int32(): number {
    this.need(4, "int32");
    const value = this.buffer.readInt32BE(this.position);
    this.position += 4;
    return value;
  }

  uint32(): number {
    this.need(4, "uint32");
    const value = this.buffer.readUInt32BE(this.position);
    this.position += 4;
    return value;
  }

  int64(): bigint {
    this.need(8, "int64");
    const value = this.buffer.readBigInt64BE(this.position);
    this.position += 8;
    return value;
  }

  float64(): number {
    this.need(8, "float64");
    const value = this.buffer.readDoubleBE(this.position);
    this.position += 8;
    return value;
  }

  uuid(): string {
    this.need(16, "uuid");
    const hex = this.buffer.toString("hex", this.position, this.position + 16);
    this.position += 16;
    return hex;
  }

  /** Unsigned LEB128, at most 5 bytes (32 bits), as Kafka's ByteUtils.readUnsignedVarint. */
  unsignedVarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.uint8();
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
    throw new DecodeError("unsigned varint longer than 5 bytes");
  }

  /** Zig-zag signed varint (32 bits). */
  varint(): number {
    const raw = this.unsignedVarint();
    return (raw >>> 1) ^ -(raw & 1);
  }

  /** Zig-zag signed varlong (64 bits), at most 10 bytes. */
  varlong(): bigint {
    let raw = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.uint8();
      raw |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return (raw >> 1n) ^ -(raw & 1n);
    }
    throw new DecodeError("varlong longer than 10 bytes");
  }

  /** A length that must fit in what remains and under a cap; -1 (null) is passed through. */
  private checkedLength(length: number, cap: number, what: string): number {
    if (length < -1) throw new DecodeError(`${what} has negative length ${length}`);
    if (length > cap) throw new DecodeError(`${what} length ${length} exceeds the limit ${cap}`);
    if (length > this.remaining) {
      throw new DecodeError(`${what} length ${length} exceeds the ${this.remaining} bytes remaining`);
    }
    return length;
  }

  private utf8(length: number): string {
    const text = this.buffer.toString("utf8", this.position, this.position + length);
    this.position += length;
    return text;
  }

  /** INT16 length then UTF-8; null when the length is -1. */
  nullableString(): string | null {
    const length = this.checkedLength(this.int16(), this.limits.stringBytesMax, "string");
    return length === -1 ? null : this.utf8(length);
  }

  /** UNSIGNED_VARINT length+1 then UTF-8; null when the stored length is 0. */
  compactNullableString(): string | null {
    const length = this.checkedLength(
      this.unsignedVarint() - 1,
      this.limits.stringBytesMax,
      "compact string",
    );
    return length === -1 ? null : this.utf8(length);
  }

  private slice(length: number): Buffer {
    const bytes = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return bytes;
  }

  /** INT32 length then raw bytes (a view into the frame, not a copy). */
  nullableBytes(): Buffer | null {
    const length = this.checkedLength(this.int32(), this.limits.bytesFieldMax, "bytes");
    return length === -1 ? null : this.slice(length);
  }

  compactNullableBytes(): Buffer | null {
    const length = this.checkedLength(this.unsignedVarint() - 1, this.limits.bytesFieldMax, "compact bytes");
    return length === -1 ? null : this.slice(length);
  }

  /** Raw bytes of a known length, checked against what remains. */
  bytes(length: number): Buffer {
    this.checkedLength(length, this.limits.bytesFieldMax, "raw bytes");
    return this.slice(length);
  }

  /**
   * An array count: -1 is null; otherwise each element takes at least
   * `elementBytesMin` bytes, so a count the frame cannot hold is refused
   * before any allocation.
   */
  arrayLength(raw: number, elementBytesMin: number): number {
    if (raw < -1) throw new DecodeError(`array has negative length ${raw}`);
    if (raw > this.limits.arrayLengthMax) {
      throw new DecodeError(`array length ${raw} exceeds the limit ${this.limits.arrayLengthMax}`);
    }
    if (raw > 0 && raw * Math.max(1, elementBytesMin) > this.remaining) {
      throw new DecodeError(`array length ${raw} cannot fit in the ${this.remaining} bytes remaining`);
    }
    return raw;
  }
}
