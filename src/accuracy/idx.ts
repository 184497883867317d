// IDX files (the MNIST / Fashion-MNIST format), plain or gzipped: a 4-byte magic
// (0, 0, type 0x08 = unsigned byte, number of dimensions), the dimensions as big-endian
// uint32, then the data row-major. Every problem is one UserError line naming the file.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../config/errors.ts';

export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

const UBYTE = 0x08;

/** Parse IDX bytes (gzip is recognised by its magic and unpacked first). */
export function parseIdx(file: string, raw: Uint8Array): IdxArray {
  let buf = raw;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new UserError(`${file}: broken gzip data (${(e as Error).message})`);
    }
  }
  if (buf.length < 4) throw new UserError(`${file}: truncated IDX file (${buf.length} bytes, no header)`);
  if (buf[0] !== 0 || buf[1] !== 0) throw new UserError(`${file}: not an IDX file (bad magic)`);
  if (buf[2] !== UBYTE) {
    throw new UserError(`${file}: IDX data type 0x${buf[2]!.toString(16)} (only unsigned bytes, 0x08)`);
  }
  const nd = buf[3]!;
  if (nd < 1 || nd > 4) throw new UserError(`${file}: IDX with ${nd} dimensions (expected 1 to 4)`);
  const head = 4 + 4 * nd;
  if (buf.length < head) throw new UserError(`${file}: truncated IDX file (header needs ${head} bytes)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims = Array.from({ length: nd }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length < head + count) {
    throw new UserError(
      `${file}: truncated IDX file (${buf.length - head} data bytes, dimensions [${dims.join(', ')}] need ${count})`,
    );
  }
  if (buf.length > head + count) {
    throw new UserError(`${file}: ${buf.length - head - count} bytes after the IDX data (wrong dimensions?)`);
  }
  return { dims, data: buf.subarray(head, head + count) };
}

export function readIdx(file: string): IdxArray {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${file}: cannot read (${code === 'ENOENT' ? 'no such file' : (e as Error).message})`,
    );
  }
  return parseIdx(file, raw);
}

/** A labeled image set: count images of height x width bytes (0..255), one label each. */
export interface ImageSet {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** count * height * width bytes, image-major. */
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
}

/** An images file ([n, h, w]) and a labels file ([n]) that must agree; labels below `classes`. */
export function readIdxPair(imagesFile: string, labelsFile: string, classes?: number): ImageSet {
  const images = readIdx(imagesFile);
  const labels = readIdx(labelsFile);
  if (images.dims.length !== 3) {
    throw new UserError(
      `${imagesFile}: images must be [count, height, width], not [${images.dims.join(', ')}]`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new UserError(
      `${labelsFile}: labels must be one dimension [count], not [${labels.dims.join(', ')}]`,
    );
  }
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new UserError(`${labelsFile}: ${labels.dims[0]} labels for ${count} images in ${imagesFile}`);
  }
  if (classes !== undefined) {
    const bad = labels.data.findIndex((l) => l >= classes);
    if (bad >= 0) {
      throw new UserError(
        `${labelsFile}: label ${labels.data[bad]} of image ${bad} is not below ${classes} classes`,
      );
    }
  }
  return { count, height, width, pixels: images.data, labels: labels.data };
}
