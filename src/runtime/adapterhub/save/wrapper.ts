import type { HubModelInfo } from './model-info.js';
import { pythonJsonDump, type PyValue } from './python-json.js';

/** The library version the files say they were written by (`build_full_config`'s `version`). */
export const SAVED_VERSION = 'adapters.1.1.0';

/**
 * `build_full_config` (`adapters/src/adapters/configuration/model_adapters_config.py`) around a
 * config, as `WeightsLoaderHelper.save_weights_config` (`loading.py`) dumps it: `indent=2,
 * sort_keys=True`, no newline at the end.
 */
export function savedConfigJson(config: PyValue, name: string, model: HubModelInfo): string {
  return pythonJsonDump(
    new Map<string, PyValue>([
      ['model_type', model.modelType],
      ['hidden_size', model.hidden],
      ['model_name', model.modelName],
      ['name', name],
      ['model_class', model.modelClass],
      ['config', config],
      ['version', SAVED_VERSION],
    ]),
  );
}
