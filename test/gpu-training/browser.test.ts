import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { expect } from 'vitest';
import { serveFolder } from '../../src/cli/static-server.js';
import { compile } from '../../src/compiler/index.js';
import { randomInputs, randomWeights, weightsNamed } from '../backward/finite-differences.js';
import { browserIt, launchChromium } from '../helpers/browser.js';
import { SETTINGS, tokenLabels } from './check.js';
import { distance, norm, referenceSteps } from './reference.js';

/** What the page sends back: the loss of each step, then the gradients of the first by name. */
interface PageResult {
  readonly losses: number[];
  readonly gradients: Record<string, number[]>;
}

/** The page's side, plain JavaScript: two steps of the bundle's trainer on the batch it is given. */
const PAGE_SCRIPT = `import { createWebGpuTrainer } from './adaptc-runtime.js';
window.runTraining = async (p) => {
  const trainer = await createWebGpuTrainer({
    program: p.program,
    weights: new Map(p.weights.map(([n, d]) => [n, Float32Array.from(d)])),
    trained: p.trained,
    output: 'hidden_states',
    classes: 8,
  });
  const values = new Map(p.values.map(([n, d, ints]) => [n, ints ? Int32Array.from(d) : Float32Array.from(d)]));
  const batch = { inputs: { batch: p.batch, seq: p.seq, values }, labels: Int32Array.from(p.labels) };
  const losses = [(await trainer.step(batch, p.settings)).loss];
  const gradients = {};
  for (const [name, g] of await trainer.lastGradients()) gradients[name] = Array.from(g);
  losses.push((await trainer.step(batch, p.settings)).loss);
  trainer.dispose();
  return { losses, gradients };
};
`;

browserIt('trains in headless Chromium from the runtime bundle, as the CPU reference', async () => {
  const program = compile(
    'model m { hidden 8 heads 2 ffn 16 layers 2 }\nadapter a { bottleneck 4 activation gelu at attn, ffn }',
    { fuse: false },
  ).program!;
  const weights = randomWeights(program, 61);
  const trained = weightsNamed(program, 'adapters.a.');
  const inputs = randomInputs(program, 2, 5, 62);
  const labels = tokenLabels(inputs, 8, 63);
  const reference = referenceSteps(
    program,
    weights,
    inputs,
    labels,
    trained,
    'hidden_states',
    SETTINGS,
    2,
  );

  const folder = mkdtempSync(join(tmpdir(), 'adaptc-train-bundle-'));
  const server = { close: async () => {} } as { close: () => Promise<void>; url?: string };
  const browser = await launchChromium();
  try {
    await build({
      entryPoints: [join(import.meta.dirname, '..', '..', 'src', 'runtime', 'index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile: join(folder, 'adaptc-runtime.js'),
      logLevel: 'warning',
    });
    writeFileSync(join(folder, 'train.js'), PAGE_SCRIPT);
    writeFileSync(
      join(folder, 'index.html'),
      '<!doctype html><title>train</title><script type="module" src="train.js"></script>',
    );
    Object.assign(server, await serveFolder(folder, 0, () => {}));
    const page = await browser.newPage();
    await page.goto(server.url!);
    const payload = {
      program,
      weights: [...weights].map(([name, data]) => [name, Array.from(data)] as const),
      trained,
      values: [...inputs.values].map(
        ([name, data]) => [name, Array.from(data), data instanceof Int32Array] as const,
      ),
      batch: inputs.batch,
      seq: inputs.seq,
      labels: Array.from(labels),
      settings: SETTINGS,
    };
    await page.waitForFunction(() => 'runTraining' in window);
    const result = await page.evaluate(
      (p) =>
        (window as unknown as { runTraining: (p: unknown) => Promise<PageResult> }).runTraining(p),
      payload,
    );
    result.losses.forEach((loss, i) => {
      expect(Math.abs(loss - reference.losses[i]!) / reference.losses[i]!).toBeLessThan(1e-5);
    });
    for (const name of trained) {
      const expected = reference.gradients.get(name)!;
      expect(distance(result.gradients[name]!, expected), name).toBeLessThanOrEqual(
        1e-4 * norm(expected) + 1e-6,
      );
    }
  } finally {
    await browser.close();
    await server.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
