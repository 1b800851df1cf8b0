import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
}

interface LockEntry extends PackageJson {
  version?: string;
  hasInstallScript?: boolean;
}

const pkg = JSON.parse(read('package.json')) as PackageJson;
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, LockEntry> };
const readme = read('README.md');
const DEPENDENCY_FIELDS = [
  'dependencies',
  'devDependencies',
  'optionalDependencies',
  'peerDependencies',
] as const;

const SET_UP =
  'npm ci && npx adapt check examples/*.adapt && npx adapt run examples/bert-base-pfeiffer.adapt --seq 128';

/** The lines of the ```sh blocks in one `## ` section of the README. */
function shellLines(markdown: string, heading: string): string[] {
  const lines: string[] = [];
  let inSection = false;
  let fenced = false;
  let sh = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('## ')) inSection = line === heading;
    if (!inSection) continue;
    if (line.startsWith('```')) {
      sh = !fenced && line === '```sh';
      fenced = !fenced;
    } else if (sh && line.trim() !== '') {
      lines.push(line);
    }
  }
  return lines;
}

/** The package names in the first column of the README's Dependencies table. */
function documentedPackages(): Set<string> {
  const section = readme.split('\n## Dependencies\n')[1]!.split('\n## ')[0]!;
  const names = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
  return new Set(names);
}

/** A lock entry's package name: the path after its last node_modules/ (scopes kept). */
const lockName = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 13);

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|mjs|js)$/.test(entry.name))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

/** The lines of .ci/run that do something (no comments, no blank lines). */
const ciLines = () =>
  read('.ci/run')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));

describe('the README sets up a fresh machine', () => {
  it('has one set-up command and the test command under "Set up and run"', () => {
    expect(shellLines(readme, '## Set up and run')).toEqual([SET_UP, 'npm test']);
  });

  it('is what CI runs: .ci/run runs exactly those commands, as the README writes them', () => {
    const commands = ciLines().filter((line) => /\b(npm|npx|node)\b/.test(line));
    expect(commands.map((line) => line.replace(/ \|\| exit$/, ''))).toEqual([SET_UP, 'npm test']);
  });

  it('leaves CI no command or setting of its own beyond what the README tells', () => {
    const code = ciLines();
    const exported = code.flatMap((line) =>
      [...line.matchAll(/\bexport (\w+)=/g)].map((m) => m[1]),
    );
    expect(exported).toEqual(['XDG_RUNTIME_DIR', 'ADAPT_REQUIRE_GPU']);
    for (const name of exported) expect(readme).toContain(`\`${name}`);
    expect(read('.ci/run')).not.toContain('ONNXRUNTIME');
  });
});

describe('npm ci installs from the registry alone, with no install script', () => {
  it('leaves out onnxruntime-node, whose install script downloads, and says how to add it', () => {
    for (const field of DEPENDENCY_FIELDS) {
      expect(Object.keys(pkg[field] ?? {}), field).not.toContain('onnxruntime-node');
    }
    const installed = Object.keys(lock.packages)
      .filter((path) => path !== '')
      .map(lockName);
    expect(installed).not.toContain('onnxruntime-node');
    // The ONNX Runtime release of onnxruntime-web, in the README and in the bench's hint.
    const version = pkg.devDependencies?.['onnxruntime-web'];
    expect(readme).toContain(
      `ONNXRUNTIME_NODE_INSTALL=skip npm i --no-save onnxruntime-node@${version}`,
    );
    expect(read('bench/onnx-runners.ts')).toContain(
      `ONNXRUNTIME_NODE_INSTALL=skip npm i --no-save \${ORT_NODE}@${version}`,
    );
  });

  it('denies every locked package with an install script in allowScripts', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
      .map(([path]) => lockName(path));
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of withScripts) expect(pkg.allowScripts?.[name], name).toBe(false);
    expect(Object.values(pkg.allowScripts ?? {}).every((allowed) => allowed === false)).toBe(true);
  });

  it('has a lock file that matches package.json, as npm ci requires', () => {
    const rootEntry = lock.packages['']!;
    for (const field of DEPENDENCY_FIELDS) {
      expect(rootEntry[field], field).toEqual(pkg[field]);
    }
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(version);
    }
  });

  it('never imports the optional onnxruntime-node statically', () => {
    const files = ['src', 'test', 'bench', 'scripts', 'bin'].flatMap(sourceFiles);
    const importers = files.filter((file) =>
      /(from\s+|import\s*\(\s*)['"]onnxruntime-node['"]/.test(read(file)),
    );
    expect(importers).toEqual([]);
  });

  it('lists every dependency, and the optional onnxruntime-node, in the README', () => {
    const documented = documentedPackages();
    const all = [
      ...DEPENDENCY_FIELDS.flatMap((field) => Object.keys(pkg[field] ?? {})),
      'onnxruntime-node',
    ];
    expect(all.filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented].filter((name) => !all.includes(name))).toEqual([]);
  });
});
