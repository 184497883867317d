// An example description: npx strumgen config examples/edge-dpu.ts
import { defineDpu } from 'strumgen';

export default defineDpu({
  name: 'edge_dpu', // prefix of every Verilog module
  array: { rows: 8, cols: 8 },
  pe: { block: 8, high: 4, low: 'dliq', mode: 'static' },
  dliq: { shiftMax: 3, granularity: 'block' },
  accumulator: { bits: 24, reductionLength: 576 },
});
