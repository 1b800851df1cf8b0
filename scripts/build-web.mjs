// Builds the browser side: the playground, and ESM bundles of the runtime and the compiler
// for apps. platform 'browser' makes any Node-only import in their module graphs an error.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chevrotainPackage } from './esbuild-chevrotain.mjs';

const out = 'dist/web';
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  logLevel: 'warning',
  plugins: [chevrotainPackage],
};

await build({
  ...common,
  entryPoints: ['examples/web/src/main.ts'],
  outfile: `${out}/playground.js`,
});
await build({
  ...common,
  entryPoints: ['src/runtime/index.ts'],
  outfile: `${out}/adaptc-runtime.js`,
});
await build({
  ...common,
  entryPoints: ['src/compiler/index.ts'],
  outfile: `${out}/adaptc-compiler.js`,
});

for (const file of ['index.html', 'style.css'])
  copyFileSync(`examples/web/${file}`, `${out}/${file}`);
const examples = Object.fromEntries(
  readdirSync('examples')
    .filter((f) => f.endsWith('.adapt'))
    .sort()
    .map((f) => [f, readFileSync(`examples/${f}`, 'utf8')]),
);
writeFileSync(`${out}/examples.json`, JSON.stringify(examples));
