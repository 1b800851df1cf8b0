import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Chevrotain's values, from the one-file build its package ships (`lib/chevrotain.mjs`, the same
 * version as the package entry). The entry, `lib/src/api.js`, loads its modules and lodash-es's
 * one file at a time, a third of a second of every `adapt` start; the one-file build loads in a
 * few milliseconds. The package's exports do not name that file, so it is found beside the
 * entry. Every value import of Chevrotain goes through this module (types come from the
 * package), so that one copy makes every token type. The browser bundles take the package
 * itself (scripts/build-web.mjs maps this module to `chevrotain-package.ts`).
 */
type Chevrotain = typeof import('chevrotain');

const entry = createRequire(import.meta.url).resolve('chevrotain');
const bundled = pathToFileURL(join(dirname(entry), '..', 'chevrotain.mjs')).href;
const chevrotain = (await import(bundled)) as Chevrotain;

export const { CstParser, createToken, createTokenInstance, EOF, Lexer } = chevrotain;
