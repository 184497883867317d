// Fashion-MNIST (Debian package dataset-fashion-mnist): 60,000 training and 10,000 test
// images of 28x28 grey pixels with labels 0..9, as (gzipped) IDX files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../config/errors.ts';
// The package root, also from the bundled CLI (dist/cli/ sits at another depth than this file).
import { REPO_ROOT } from '../../sim/build.ts';
import { type ImageSet, readIdxPair } from '../idx.ts';
import type { ClassifyData, Task } from '../task.ts';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** dir/<prefix>-images-idx3-ubyte[.gz] and the matching labels file. */
export function idxFiles(dir: string, prefix: string): { images: string; labels: string } | null {
  for (const ext of ['.gz', '']) {
    const images = join(dir, `${prefix}-images-idx3-ubyte${ext}`);
    const labels = join(dir, `${prefix}-labels-idx1-ubyte${ext}`);
    if (existsSync(images) && existsSync(labels)) return { images, labels };
  }
  return null;
}

export function fashionMnist(dir: string, split: 'train' | 'test'): ImageSet {
  const files = idxFiles(dir, split === 'train' ? 'train' : 't10k');
  if (!files) {
    throw new UserError(
      `${dir}: no Fashion-MNIST ${split} IDX files (install the Debian package dataset-fashion-mnist: scripts/setup)`,
    );
  }
  return readIdxPair(files.images, files.labels, 10);
}

/** Training images that calibrate the integer path's activation scales. */
export const CALIBRATION_IMAGES = 1000;

/** The committed CNN (scripts/train-fashion-cnn.ts). */
export const FASHION_MNIST_MODEL = join(REPO_ROOT, 'models', 'fashion-mnist-cnn.onnx');

/** Fashion-MNIST top-1 on the test images (the first `limit`), input pixels / 255. */
export function fashionMnistTask(dir = FASHION_MNIST_DIR, limit?: number, model = FASHION_MNIST_MODEL): Task {
  const set = fashionMnist(dir, 'test');
  return {
    name: 'fashion-mnist',
    model,
    source: `${dir} (test images)`,
    data: imageSetData(set, limit),
    calibration: () => ({
      data: imageSetData(fashionMnist(dir, 'train'), CALIBRATION_IMAGES),
      source: `the first ${CALIBRATION_IMAGES} training images`,
    }),
  };
}

/** Classifier samples from an IDX image set: [1, h, w] inputs, pixels / 255. */
export function imageSetData(set: ImageSet, limit?: number, classes = 10): ClassifyData {
  const px = set.height * set.width;
  return {
    kind: 'classify',
    count: Math.min(set.count, limit ?? set.count),
    sampleDims: [1, set.height, set.width],
    sample: (i, out, offset) => {
      for (let p = 0; p < px; p++) out[offset + p] = set.pixels[i * px + p]! / 255;
    },
    labels: set.labels,
    classes,
  };
}
