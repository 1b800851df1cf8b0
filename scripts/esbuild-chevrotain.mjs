// grammar/chevrotain.ts loads Chevrotain's one-file build through Node's resolver; a browser
// bundle takes the package instead, through grammar/chevrotain-package.ts. Every esbuild
// bundle of the compiler for a browser (scripts/build-web.mjs, the bench's Chromium page) uses
// this plugin.
import { fileURLToPath, URL } from 'node:url';

const CHEVROTAIN_PACKAGE = fileURLToPath(
  new URL('../grammar/chevrotain-package.ts', import.meta.url),
);

/** @type {import('esbuild').Plugin} */
export const chevrotainPackage = {
  name: 'chevrotain-package',
  setup(build) {
    build.onResolve({ filter: /(^|\/)chevrotain\.js$/ }, () => ({ path: CHEVROTAIN_PACKAGE }));
  },
};
