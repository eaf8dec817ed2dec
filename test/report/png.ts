// Test support: a small PNG decoder on node:zlib (8-bit greyscale, RGB and
// RGBA, not interlaced: what chromium's screenshots are), and pixel
// statistics to tell a rendered page from a blank one. No image library.
import { inflateSync } from 'node:zlib';

export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  /** Rows of `width * channels` bytes, filters undone. */
  readonly pixels: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export function decodePng(png: Buffer): DecodedPng {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8]!;
      const colourType = data[9]!;
      const interlace = data[12]!;
      channels = CHANNELS[colourType] ?? 0;
      if (depth !== 8 || channels === 0 || interlace !== 0) {
        throw new Error(
          `unsupported PNG: depth ${depth}, colour type ${colourType}, interlace ${interlace}`,
        );
      }
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let i = 0; i < stride; i++) {
      const left = i >= channels ? pixels[out + i - channels]! : 0;
      const up = y > 0 ? pixels[out - stride + i]! : 0;
      const upLeft = y > 0 && i >= channels ? pixels[out - stride + i - channels]! : 0;
      let predictor = 0;
      switch (filter) {
        case 0:
          break;
        case 1:
          predictor = left;
          break;
        case 2:
          predictor = up;
          break;
        case 3:
          predictor = (left + up) >> 1;
          break;
        case 4: {
          const p = left + up - upLeft;
          const pa = Math.abs(p - left);
          const pb = Math.abs(p - up);
          const pc = Math.abs(p - upLeft);
          predictor = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
          break;
        }
        default:
          throw new Error(`bad PNG filter ${filter} on row ${y}`);
      }
      pixels[out + i] = (line[i]! + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

export interface PixelStats {
  /** Variance of the luminance (0–255 scale). */
  readonly variance: number;
  readonly distinctColours: number;
  /** Share of pixels that are not (nearly) the most common colour. */
  readonly nonBackground: number;
}

export function pixelStats(img: DecodedPng): PixelStats {
  const n = img.width * img.height;
  let sum = 0;
  let sumSq = 0;
  const colours = new Map<number, number>();
  for (let p = 0; p < n; p++) {
    const i = p * img.channels;
    const [r, g, b] =
      img.channels >= 3
        ? [img.pixels[i]!, img.pixels[i + 1]!, img.pixels[i + 2]!]
        : [img.pixels[i]!, img.pixels[i]!, img.pixels[i]!];
    const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    sum += lum;
    sumSq += lum * lum;
    const key = (r << 16) | (g << 8) | b;
    colours.set(key, (colours.get(key) ?? 0) + 1);
  }
  const mean = sum / n;
  const top = Math.max(...colours.values());
  return {
    variance: sumSq / n - mean * mean,
    distinctColours: colours.size,
    nonBackground: 1 - top / n,
  };
}

/** The RGB colour at (x, y). */
export function pixelAt(img: DecodedPng, x: number, y: number): [number, number, number] {
  const i = (y * img.width + x) * img.channels;
  return img.channels >= 3
    ? [img.pixels[i]!, img.pixels[i + 1]!, img.pixels[i + 2]!]
    : [img.pixels[i]!, img.pixels[i]!, img.pixels[i]!];
}
