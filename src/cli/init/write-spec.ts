import { basename, relative, sep } from 'node:path';
import { CliError, printable } from '../io.js';
import { MAX_NAME_LENGTH, toIdentifier } from './identifier.js';
import type { SavedDirectory } from './saved-directory.js';

type Adapter = Extract<SavedDirectory, { kind: 'adapter' }>;
type Fusion = Extract<SavedDirectory, { kind: 'fusion' }>;

/** The longest string the lexer accepts between its quotes (docs/language.md §1, "Length"). */
const MAX_STRING_LENGTH = 4096;

/** Characters an .adapt file may not hold, in a string or a comment (E0006). */
const FORBIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029\uFFFD]|\p{Cs}/u;

const initError = (message: string) => new CliError(`adapt: error: ${message}`);

/** A saved name quoted for a comment: JSON's escapes, plus every character a comment may not hold. */
function quoteForComment(text: string): string {
  return JSON.stringify(text).replace(
    /[\p{Cf}\u2028\u2029\uFFFD]/gu,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** An identifier for a saved name, within the lexer's length limit. */
function declaredName(saved: string, where: string): string {
  const name = toIdentifier(saved);
  if (name.length > MAX_NAME_LENGTH) {
    throw new CliError(
      `${where}: error: the name ${quoteForComment(saved)} is longer than ${MAX_NAME_LENGTH} characters, the most a name in a .adapt file may have`,
    );
  }
  return name;
}

/** A directory as the spec names it: relative to the spec's folder, with `/` separators. */
function specPath(base: string, entry: SavedDirectory): string {
  const path = relative(base, entry.absolute).split(sep).join('/') || '.';
  if (FORBIDDEN.test(path)) {
    throw new CliError(
      `${entry.dir}: error: the path ${printable(path)} holds a character a .adapt string cannot hold`,
    );
  }
  if (path.length > MAX_STRING_LENGTH) {
    throw new CliError(
      `${entry.dir}: error: the path is longer than ${MAX_STRING_LENGTH} characters, the most a .adapt string may hold`,
    );
  }
  return path;
}

/** A .adapt string: only `\"` and `\\` are escapes (docs/language.md §1, "Strings"). */
function quote(path: string): string {
  return `"${path.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/** Declared names per namespace: adapters and fusions share one, heads have their own. */
class Namespace {
  private readonly owners = new Map<string, string>();

  constructor(private readonly what: string) {}

  declare(name: string, dir: string): void {
    const previous = this.owners.get(name);
    if (previous !== undefined) {
      throw initError(
        `${previous} and ${dir} both declare the ${this.what} name '${name}'; give one of them`,
      );
    }
    this.owners.set(name, dir);
  }
}

function requireOneModel(entries: readonly SavedDirectory[]): SavedDirectory {
  const models = entries.filter((entry) => entry.kind === 'model');
  if (models.length === 1) return models[0]!;
  if (models.length === 0) {
    throw initError(
      `no model directory among ${entries.map((entry) => entry.dir).join(', ')}; give the Hugging Face checkpoint (the directory with config.json) too`,
    );
  }
  throw initError(
    `${models.length} model directories (${models.map((entry) => entry.dir).join(', ')}); give exactly one`,
  );
}

function lineWithComment(declaration: string, notes: readonly string[]): string {
  return notes.length === 0 ? declaration : `${declaration}  # ${notes.join(', ')}`;
}

/**
 * The .adapt spec for the directories given to `adapt init`, in command-line order: the model,
 * the adapters and heads, the fusions, and the graphs. `base` is the folder the spec is written
 * to; the directories are written relative to it.
 */
export function writeSpec(entries: readonly SavedDirectory[], base: string): string {
  const model = requireOneModel(entries);
  const adaptersAndFusions = new Namespace('adapter or fusion');
  const heads = new Namespace('head');
  const paths = new Map(entries.map((entry) => [entry, specPath(base, entry)]));
  const pathOf = (entry: SavedDirectory) => quote(paths.get(entry)!);

  const declarations: string[] = [];
  const adapters: { entry: Adapter; name: string }[] = [];
  for (const entry of entries) {
    if (entry.kind === 'adapter') {
      const name = declaredName(entry.name, entry.dir);
      adaptersAndFusions.declare(name, entry.dir);
      if (entry.head !== undefined) heads.declare(declaredName(entry.head, entry.dir), entry.dir);
      adapters.push({ entry, name });
      const notes: string[] = [];
      if (name !== entry.name) notes.push(`saved as ${quoteForComment(entry.name)}`);
      if (entry.head !== undefined) notes.push('with its head');
      declarations.push(lineWithComment(`adapter ${name} from ${pathOf(entry)}`, notes));
    } else if (entry.kind === 'head') {
      const name = declaredName(entry.name, entry.dir);
      heads.declare(name, entry.dir);
      const notes = name === entry.name ? [] : [`saved as ${quoteForComment(entry.name)}`];
      declarations.push(lineWithComment(`head ${name} from ${pathOf(entry)}`, notes));
    }
  }

  const bySavedName = new Map(adapters.map((adapter) => [adapter.entry.name, adapter.name]));
  const fusions: string[] = [];
  for (const entry of entries) {
    if (entry.kind !== 'fusion') continue;
    const members = fusionMembers(entry, bySavedName, adapters);
    const name = declaredName(entry.members.join('_'), entry.config);
    adaptersAndFusions.declare(name, entry.dir);
    fusions.push(name);
    const renamed = members.some((member, i) => member !== entry.members[i]);
    const block = renamed ? ` { adapters ${members.join(', ')} }` : '';
    declarations.push(`fusion ${name} from ${pathOf(entry)}${block}`);
  }

  const header = `# Written by adapt init from ${entries.map((entry) => paths.get(entry)!).join(', ')}.`;
  const modelName = declaredName(basename(model.absolute), model.dir);
  const sections = [[header, `model ${modelName} from ${pathOf(model)}`]];
  if (declarations.length > 0) sections.push(declarations);
  const graphs = graphLines(
    fusions,
    adapters.map((adapter) => adapter.name),
  );
  if (graphs.length > 0) sections.push(graphs);
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

/** A fusion's members as declared, in the saved order; each must be one of the adapters given. */
function fusionMembers(
  fusion: Fusion,
  bySavedName: ReadonlyMap<string, string>,
  adapters: readonly { entry: Adapter }[],
): string[] {
  return fusion.members.map((member) => {
    const declared = bySavedName.get(member);
    if (declared !== undefined) return declared;
    const given = adapters.map((adapter) => quoteForComment(adapter.entry.name)).join(', ');
    throw new CliError(
      `${fusion.config}: error: the fusion's adapter ${quoteForComment(member)} is not among the adapters given (${given || 'none'}); give its directory too`,
    );
  });
}

/**
 * The graphs: one per fusion (the first is `default`); else the single adapter, or a stack of
 * the adapters in command-line order; none without adapters.
 */
function graphLines(fusions: readonly string[], adapters: readonly string[]): string[] {
  if (fusions.length === 1) return [`graph default = ${fusions[0]}`];
  if (fusions.length > 1) {
    if (fusions.includes('default')) {
      throw initError(
        "a fusion named 'default' would need a graph of its own beside graph default; rename its adapters",
      );
    }
    return [...fusions.map((name) => `graph ${name} = ${name}`), `graph default = ${fusions[0]}`];
  }
  if (adapters.length === 1) return [`graph default = ${adapters[0]}`];
  if (adapters.length > 1) return [`graph default = stack(${adapters.join(', ')})`];
  return [];
}
