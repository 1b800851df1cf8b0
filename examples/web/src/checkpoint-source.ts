import { LoadError } from './load-error.js';

/** Where a checkpoint directory's files come from: a URL, or a folder picked from the disk. */
export interface CheckpointSource {
  /** The directory as the user gave it, named in messages: `checkpoints/bert-seq-cls`. */
  readonly dir: string;
  /** A file of the directory, or undefined where the directory has none. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Whether the directory has the file, without reading it. */
  has(name: string): Promise<boolean>;
}

/** `DIR/`, `./DIR` → `DIR`: the directory as typed, without what does not change where it is. */
export function normalizeDir(dir: string): string {
  return dir
    .trim()
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '');
}

/** A directory at a URL, absolute or relative to the page; a 404 is a missing file. */
export function urlSource(typed: string, base: string): CheckpointSource {
  const dir = normalizeDir(typed);
  if (dir === '')
    throw new LoadError(
      'the checkpoint URL is empty: give a directory, such as checkpoints/bert-base-uncased',
    );
  const urlOf = (name: string) => {
    try {
      return new URL(`${dir}/${name}`, base);
    } catch {
      throw new LoadError(`${dir}: not a URL`);
    }
  };
  const request = async (name: string, method: 'GET' | 'HEAD') => {
    let response: Response;
    try {
      response = await fetch(urlOf(name), { method });
    } catch (error) {
      throw new LoadError(
        `${dir}/${name}: cannot fetch (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    if (response.status === 404) return undefined;
    if (!response.ok)
      throw new LoadError(`${dir}/${name}: HTTP ${response.status} ${response.statusText}`);
    return response;
  };
  return {
    dir,
    read: async (name) => {
      const response = await request(name, 'GET');
      return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
    },
    has: async (name) => (await request(name, 'HEAD')) !== undefined,
  };
}

/** The folder of a picked file: `bert/config.json` → `bert`. */
function folderOf(file: File): string {
  const path = file.webkitRelativePath || file.name;
  return path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
}

/**
 * The checkpoint among picked files (`<input type=file webkitdirectory>`): the one folder that
 * holds a config.json, its files read from there.
 */
export function folderSource(files: readonly File[]): CheckpointSource {
  const configs = files.filter((file) => file.name === 'config.json').map(folderOf);
  const folders = [...new Set(configs)];
  if (folders.length === 0)
    throw new LoadError(
      'the picked folder holds no config.json: pick a Hugging Face checkpoint directory',
    );
  if (folders.length > 1) {
    throw new LoadError(
      `the picked folder holds ${folders.length} checkpoints (${folders.join(', ')}): pick one of them`,
    );
  }
  return pickedFolder(files, folders[0]!);
}

/** The files of one folder among picked files, read from there. */
function pickedFolder(files: readonly File[], folder: string): CheckpointSource {
  const inFolder = new Map(
    files.filter((file) => folderOf(file) === folder).map((file) => [file.name, file]),
  );
  const dir = folder === '' ? 'the picked folder' : folder;
  return {
    dir,
    read: async (name) => {
      const file = inFolder.get(name);
      return file ? new Uint8Array(await file.arrayBuffer()) : undefined;
    },
    has: async (name) => inFolder.has(name),
  };
}

/**
 * Every folder among picked files that holds one of `markers` (AdapterHub's config files): a
 * picked folder may hold several directories, each an adapter, a head or a fusion.
 */
export function markedFolderSources(
  files: readonly File[],
  markers: readonly string[],
): CheckpointSource[] {
  const folders = [
    ...new Set(files.filter((file) => markers.includes(file.name)).map(folderOf)),
  ].sort();
  if (folders.length === 0)
    throw new LoadError(`the picked folder holds none of ${markers.join(', ')}`);
  return folders.map((folder) => pickedFolder(files, folder));
}
