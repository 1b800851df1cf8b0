import {
  loadSavedDirectory,
  SAVED_CONFIG_FILES,
  type LoadedSavedDirectory,
} from './adapterhub-directory.js';
import { loadCheckpoint, readExtraWeights } from './checkpoint.js';
import {
  folderSource,
  markedFolderSources,
  normalizeDir,
  urlSource,
  type CheckpointSource,
} from './checkpoint-source.js';
import { LoadError, loadErrorMessage } from './load-error.js';
import { useCheckpoint, useExtraWeights, addSavedDirectories } from './spec-files.js';

/**
 * The checkpoint bar: a directory by URL or picked from the disk, extra weight files, and
 * AdapterHub directories (by URL or picked).
 */

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function show(state: 'loading' | 'loaded' | 'failed', message: string): void {
  const status = $<HTMLSpanElement>('checkpoint-status');
  status.dataset.state = state;
  status.textContent = message;
}

/** Extra weight files at URLs relative to the page, separated by spaces or commas. */
async function fetchExtraWeights(typed: string) {
  const urls = typed.split(/[\s,]+/).filter((url) => url !== '');
  return Promise.all(
    urls.map(async (url) => {
      let response: Response;
      try {
        response = await fetch(new URL(url, location.href));
      } catch (error) {
        throw new LoadError(`${url}: cannot fetch (${loadErrorMessage(error)})`);
      }
      if (!response.ok)
        throw new LoadError(`${url}: HTTP ${response.status} ${response.statusText}`);
      return {
        name: url,
        tensors: readExtraWeights(new Uint8Array(await response.arrayBuffer()), url),
      };
    }),
  );
}

const tensorCount = (n: number) => `${n} tensor${n === 1 ? '' : 's'}`;

/** Directories at URLs relative to the page, separated by spaces or commas. */
const typedDirectories = (typed: string) =>
  typed
    .split(/[\s,]+/)
    .map(normalizeDir)
    .filter((dir) => dir !== '');

/** Every directory read before any is used: one that fails leaves the loaded ones as they were. */
async function loadSavedDirectories(sources: readonly CheckpointSource[]): Promise<string[]> {
  const loaded: LoadedSavedDirectory[] = [];
  for (const source of sources) loaded.push(await loadSavedDirectory(source));
  addSavedDirectories(loaded);
  return loaded.map(describeSaved);
}

function describeSaved(directory: LoadedSavedDirectory): string {
  const kinds = [...directory.weights].map(
    ([kind, weights]) => `${kind} (${tensorCount(weights.tensors.size)})`,
  );
  return `${directory.dir}: ${kinds.join(', ')}`;
}

/** Wires the bar; `loaded` runs after each successful load, to re-check the spec. */
export function setUpLoaders(loaded: () => void): void {
  const attempt = async (what: string, load: () => Promise<string>) => {
    show('loading', `loading ${what}…`);
    try {
      show('loaded', await load());
      loaded();
    } catch (error) {
      show('failed', loadErrorMessage(error));
    }
  };

  $('checkpoint-load').addEventListener('click', () => {
    const dir = normalizeDir($<HTMLInputElement>('checkpoint-url').value);
    const extra = $<HTMLInputElement>('extra-weights-url').value;
    const saved = typedDirectories($<HTMLInputElement>('adapterhub-url').value);
    void attempt(dir || 'the extra weights and AdapterHub directories', async () => {
      const parts: string[] = [];
      if (dir !== '' || (extra.trim() === '' && saved.length === 0)) {
        const checkpoint = await loadCheckpoint(urlSource(dir, location.href));
        useCheckpoint(checkpoint);
        parts.push(describe(checkpoint));
      }
      const files = await fetchExtraWeights(extra);
      useExtraWeights(files);
      for (const file of files) parts.push(`${file.name}: ${tensorCount(file.tensors.size)}`);
      parts.push(
        ...(await loadSavedDirectories(saved.map((typed) => urlSource(typed, location.href)))),
      );
      return parts.join('; ');
    });
  });

  const folder = $<HTMLInputElement>('checkpoint-folder');
  folder.addEventListener('change', () => {
    const files = [...(folder.files ?? [])];
    void attempt('the picked folder', async () => {
      const checkpoint = await loadCheckpoint(folderSource(files));
      useCheckpoint(checkpoint);
      return describe(checkpoint);
    });
  });

  const savedFolder = $<HTMLInputElement>('adapterhub-folder');
  savedFolder.addEventListener('change', () => {
    const files = [...(savedFolder.files ?? [])];
    void attempt('the picked AdapterHub folders', async () => {
      const sources = markedFolderSources(files, Object.values(SAVED_CONFIG_FILES));
      return (await loadSavedDirectories(sources)).join('; ');
    });
  });

  const weights = $<HTMLInputElement>('extra-weights-files');
  weights.addEventListener('change', () => {
    const files = [...(weights.files ?? [])];
    void attempt('the weight files', async () => {
      const read = await Promise.all(
        files.map(async (file) => ({
          name: file.name,
          tensors: readExtraWeights(new Uint8Array(await file.arrayBuffer()), file.name),
        })),
      );
      useExtraWeights(read);
      return read.map((file) => `${file.name}: ${tensorCount(file.tensors.size)}`).join('; ');
    });
  });
}

function describe(checkpoint: {
  dir: string;
  tensors: ReadonlyMap<string, unknown>;
  files: readonly string[];
  tokenizer: unknown;
}): string {
  const name = checkpoint.dir.slice(checkpoint.dir.lastIndexOf('/') + 1);
  const files = checkpoint.files.length === 1 ? 'one file' : `${checkpoint.files.length} shards`;
  const tokenizer = checkpoint.tokenizer ? 'with its tokenizer' : 'without tokenizer.json';
  return `loaded ${checkpoint.dir}: ${tensorCount(checkpoint.tensors.size)} from ${files}, ${tokenizer}; specs name it as model NAME from "${name}"`;
}
