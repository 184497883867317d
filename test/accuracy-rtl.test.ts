// The Fashion-MNIST CNN on the generated array (Verilator): its conv and FC layers as
// tiles through a small StruM array, requantized between layers in TypeScript, must give the
// golden integer model's logits image for image; and a broken array must be caught.
import { describe, expect, it } from 'vitest';
import { loadTask, runAccuracy } from '../src/accuracy/index.ts';
import {
  calibrate,
  goldenMatmul,
  im2col,
  integerGraph,
  quantizeInput,
  quantizeNet,
} from '../src/accuracy/integer.ts';
import { integerPath } from '../src/accuracy/integer-run.ts';
import { loadModel } from '../src/accuracy/model.ts';
import { FASHION_MNIST_MODEL } from '../src/accuracy/tasks/fashion-mnist.ts';
import { loadConfig } from '../src/config/load.ts';
import { quantizeForConfig } from '../src/quant/index.ts';
import { simulateMatmul } from '../src/sim/index.ts';

const BUILD = 300_000;
// The array of test/sim.test.ts's "broken design" cases: its builds are shared through the cache.
const OVERRIDES = { 'array.rows': 2, 'array.cols': 2, 'pe.block': 8 };

describe('accuracy on the RTL', () => {
  it(
    'Fashion-MNIST CNN, 4 images, strum-mip2q 2x2 B=8: RTL logits equal the golden integer model',
    async () => {
      const task = await loadTask('fashion-mnist', { limit: 4 });
      const { runs } = await runAccuracy(task, {
        schemes: 'config',
        context: { config: 'strum-mip2q', overrides: OVERRIDES, select: 'magnitude' },
      });
      const mine = runs.filter((r) => r.scheme.kind === 'config' && r.scheme.cfg.pe.low !== 'none');
      const rep = await integerPath(task, mine, { rtl: true });
      const s = rep.schemes[0]!;
      expect(s.onnxLogitsEqual).toBe(4);
      const rtl = s.rtl!;
      expect(rtl.mismatches).toBe(0);
      expect(rtl.logitsEqual).toBe(4);
      expect(rtl.predictionsEqual).toBe(4);
      expect(rtl.images).toBe(4);
      expect(rtl.config).toMatchObject({ rows: 2, cols: 2 });
      expect(rtl.accuracy.value).toBe(s.accuracy.value);
    },
    BUILD,
  );

  it(
    'a wrong bit in the array (low-lane sign fault) is caught and changes the results',
    async () => {
      const cfg = await loadConfig('strum-mip2q', OVERRIDES);
      const model = await loadModel(FASHION_MNIST_MODEL);
      const task = await loadTask('fashion-mnist', { limit: 2 });
      const net = await calibrate(model, integerGraph(model), task.calibration!().data);
      const w = quantizeNet(net, cfg, 'magnitude');
      const d = task.data.kind === 'classify' ? task.data : null;
      const x = new Float32Array(784);
      const input = new Int8Array(2 * 784);
      for (let i = 0; i < 2; i++) {
        d!.sample(i, x, 0);
        quantizeInput(x, input, i * 784);
      }
      const l = net.layers[0]!;
      const q = quantizeForConfig(cfg, l.weights, l.N, l.K);
      const layer = { name: l.name, N: l.N, K: q.K, blocks: q.blocks, layerMeta: q.layerMeta };
      const rows = 2 * l.outH * l.outW;
      const A = im2col(l, input, 2, q.K);
      const golden = goldenMatmul(A, rows, w.q[0]!, cfg.accumulator.bits);
      const good = await simulateMatmul(cfg, A, rows, layer);
      expect(good.mismatches).toBe(0);
      expect(Array.from(good.out)).toEqual(Array.from(golden));
      const bad = await simulateMatmul(cfg, A, rows, layer, { fault: 'low-lane-sign' });
      expect(bad.mismatches).toBeGreaterThan(0);
      expect(Array.from(bad.out)).not.toEqual(Array.from(golden));
    },
    BUILD,
  );
});
