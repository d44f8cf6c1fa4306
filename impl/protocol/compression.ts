/**
 * Compression codecs of record batches. The broker stores and serves
 * compressed batches as they came; only tools (dump-log), the metadata log and
 * tests decompress. zstd is decoded in pure JavaScript, since a native zstd
 * build cannot be installed here; encoding zstd is not offered.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { decompress as zstdDecompress } from "fzstd";
import { compressFrameSync as lz4CompressFrame, decompressFrameSync as lz4DecompressFrame } from "lz4-napi";
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from "snappy";
import { DecodeError } from "./reader.ts";
import type { CompressionCodec } from "./record-batch.ts";

/** Java clients frame snappy the way xerial's SnappyOutputStream does: this magic, then [length, block]... */
const xerialMagic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const xerialHeaderBytes = 16;

function snappyDecode(bytes: Buffer): Buffer {
  if (bytes.length < xerialHeaderBytes || !bytes.subarray(0, 8).equals(xerialMagic)) {
    return snappyUncompress(bytes) as Buffer;
  }
  const blocks: Buffer[] = [];
  let position = xerialHeaderBytes;
  while (position < bytes.length) {
    if (position + 4 > bytes.length) throw new DecodeError("snappy block length cut short");
    const length = bytes.readInt32BE(position);
    position += 4;
    if (length < 0 || position + length > bytes.length)
      throw new DecodeError(`snappy block of ${length} bytes cut short`);
    blocks.push(snappyUncompress(bytes.subarray(position, position + length)) as Buffer);
    position += length;
  }
  return Buffer.concat(blocks);
}

export function decompress(codec: CompressionCodec, bytes: Buffer): Buffer {
  try {
    switch (codec) {
      case "none":
        return bytes;
      case "gzip":
        return gunzipSync(bytes);
      case "snappy":
        return snappyDecode(bytes);
      case "lz4":
        return lz4DecompressFrame(bytes);
      case "zstd":
        return Buffer.from(zstdDecompress(bytes));
    }
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw new DecodeError(`${codec} data does not decompress: ${(error as Error).message}`);
  }
}

export function compress(codec: CompressionCodec, bytes: Buffer): Buffer {
  switch (codec) {
    case "none":
      return bytes;
    case "gzip":
      return gzipSync(bytes);
    case "snappy":
      return snappyCompress(bytes);
    case "lz4":
      return lz4CompressFrame(bytes);
    case "zstd":
      throw new Error(
        "zstd encoding is not available in Chronik's tools; zstd batches from clients are stored and served",
      );
  }
}
