import type { DiagnosticBag } from '../../diagnostics.js';
import type { BlockDeclaration, SourceClause } from '../../syntax/ast.js';
import type { ReadFile } from '../checkpoint/read-config.js';
import type { SavedFusion } from '../fusions.js';
import { AdapterConfigError } from './adapter-config-error.js';
import { readFusionConfig } from './fusion-config.js';
import { checkSourceClause, reportConfigError, savedConfigOf } from './saved-adapter.js';
import { readSavedJson } from './saved-json.js';

/**
 * `fusion NAME from "DIR"`: `adapter_fusion_config.json` as `save_adapter_fusion` writes it;
 * its `name` lists the fused adapters (`a,b,c`), which the spec must declare (or name in order
 * with `adapters`). Undefined after an error.
 */
export function readSavedFusion(
  block: BlockDeclaration,
  from: SourceClause,
  hidden: number | undefined,
  readFile: ReadFile | undefined,
  bag: DiagnosticBag,
): SavedFusion | undefined {
  if (!checkSourceClause(block, from, bag)) return undefined;
  const read = readSavedJson(from.path, 'adapter_fusion_config.json', readFile, bag, {
    what: "a fusion saved by the adapters library's save_adapter_fusion",
  });
  if (!read || hidden === undefined) return undefined;
  try {
    const { fields, members } = readFusionConfig(read.value, read.file, hidden);
    if (members === undefined)
      throw new AdapterConfigError(read.file, 'missing: it names the fused adapters', 'name');
    return {
      fields,
      members,
      source: { dir: from.path.value, savedName: members.join(',') },
      savedConfig: savedConfigOf(read.value),
      span: from.path.span,
    };
  } catch (error) {
    reportConfigError(error, from, bag);
    return undefined;
  }
}
