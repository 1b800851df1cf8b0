/** Chevrotain's values from its package entry, for the browser bundles (see chevrotain.ts). */
export { CstParser, createToken, createTokenInstance, EOF, Lexer } from 'chevrotain';
