#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { opensGpu, runWithFilteredStderr } from '../dist/src/cli/gpu-stderr.js';

const argv = process.argv.slice(2);
if (opensGpu(argv)) {
  process.exitCode = await runWithFilteredStderr(fileURLToPath(import.meta.url), argv);
} else {
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(argv);
}
