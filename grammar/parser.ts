import { CstParser } from './chevrotain.js';
import { adaptErrorMessages } from './messages.js';
import {
  allTokens,
  Colon,
  Comma,
  DotDot,
  Equals,
  Identifier,
  LCurly,
  LParen,
  NumberLiteral,
  RCurly,
  RParen,
  StringLiteral,
} from './tokens.js';

/**
 * How many re-syncs inside repetitions may nest. Chevrotain re-enters a repetition by recursion
 * after each re-sync, so a run of thousands of errors in one `{ ... }` or one file would overflow
 * the stack; past this depth the error ends the repetition instead, and parse() resumes at the
 * next declaration.
 */
const MAX_NESTED_RESYNCS = 32;

type RepetitionRecovery = (this: AdaptParser, ...args: unknown[]) => void;

/** The most errors one parse collects; a file shows no more than 100 anyway. */
export const MAX_PARSE_ERRORS = 101;

/** Thrown out of a parse that reached MAX_PARSE_ERRORS; `errors` holds those found. */
export class ParseErrorLimit extends Error {
  override name = 'ParseErrorLimit';
}

/** The CST parser. It follows grammar/adapt.ebnf rule for rule and knows no semantics. */
export class AdaptParser extends CstParser {
  constructor() {
    super(allTokens, {
      recoveryEnabled: true,
      maxLookahead: 2,
      errorMessageProvider: adaptErrorMessages,
    });
    this.performSelfAnalysis();
    this.boundRepetitionRecovery();
    this.limitErrors();
  }

  /** Stops a parse at MAX_PARSE_ERRORS: recovering from each costs a look ahead. */
  private limitErrors(): void {
    const self = this as unknown as { SAVE_ERROR: (error: unknown) => unknown };
    const save = self.SAVE_ERROR;
    self.SAVE_ERROR = (error) => {
      const saved = save.call(this, error);
      if (this.errors.length >= MAX_PARSE_ERRORS) throw new ParseErrorLimit();
      return saved;
    };
  }

  /** Wraps Chevrotain's in-repetition recovery (set per instance when recovery is on). */
  private boundRepetitionRecovery(): void {
    const self = this as unknown as { attemptInRepetitionRecovery: RepetitionRecovery };
    const recover = self.attemptInRepetitionRecovery;
    let depth = 0;
    self.attemptInRepetitionRecovery = function (...args) {
      if (depth >= MAX_NESTED_RESYNCS) return;
      depth++;
      try {
        recover.apply(this, args);
      } finally {
        depth--;
      }
    };
  }

  public file = this.RULE('file', () => {
    this.MANY(() => this.SUBRULE(this.declaration));
  });

  // model NAME { ... } | adapter NAME { ... } | fusion NAME { ... } | graph NAME = expression
  // | model NAME from "DIR" [{ ... }]
  public declaration = this.RULE('declaration', () => {
    this.CONSUME(Identifier, { LABEL: 'keyword' });
    this.CONSUME2(Identifier, { LABEL: 'name' });
    this.OR([
      { ALT: () => this.SUBRULE(this.block) },
      {
        ALT: () => {
          this.CONSUME(Equals);
          this.SUBRULE(this.expression);
        },
      },
      {
        // Only a word followed by a string: `model m hidden 64` is a forgotten '{', not a source.
        GATE: () => this.LA(2).tokenType === StringLiteral,
        ALT: () => {
          this.CONSUME3(Identifier, { LABEL: 'from' });
          this.CONSUME(StringLiteral, { LABEL: 'path' });
          this.OPTION(() => this.SUBRULE2(this.block));
        },
      },
    ]);
  });

  public block = this.RULE('block', () => {
    this.CONSUME(LCurly);
    this.MANY(() => this.SUBRULE(this.property));
    this.CONSUME(RCurly);
  });

  public property = this.RULE('property', () => {
    this.CONSUME(Identifier, { LABEL: 'name' });
    this.SUBRULE(this.value);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.value);
    });
  });

  public value = this.RULE('value', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(NumberLiteral, { LABEL: 'from' });
          this.OPTION(() => {
            this.CONSUME(DotDot);
            this.CONSUME2(NumberLiteral, { LABEL: 'to' });
          });
        },
      },
      { ALT: () => this.CONSUME(Identifier, { LABEL: 'word' }) },
      { ALT: () => this.CONSUME(StringLiteral, { LABEL: 'text' }) },
    ]);
  });

  // name | name(argument, ...)
  public expression = this.RULE('expression', () => {
    this.CONSUME(Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(LParen);
      this.OPTION2(() => {
        this.SUBRULE(this.argument);
        this.MANY(() => {
          this.CONSUME(Comma);
          this.SUBRULE2(this.argument);
        });
      });
      this.CONSUME(RParen);
    });
  });

  public argument = this.RULE('argument', () => {
    this.SUBRULE(this.expression);
    this.OPTION(() => {
      this.CONSUME(Colon);
      this.CONSUME(NumberLiteral, { LABEL: 'weight' });
    });
  });
}

/** One shared instance: Chevrotain parsers are reusable by resetting `input`. */
export const adaptParser = new AdaptParser();
