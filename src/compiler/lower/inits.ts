import type { WeightInit } from '../ir/types.js';

/** Seeded initial weights where no weights file is given (README: base, adapters, fusion). */
export const BASE_INIT: WeightInit = { kind: 'normal', std: 0.02 };
export const ADAPTER_INIT: WeightInit = { kind: 'normal', std: 0.01 };
export const FUSION_INIT: WeightInit = { kind: 'normal', std: 0.02 };
export const ZEROS: WeightInit = { kind: 'zeros' };
export const ONES: WeightInit = { kind: 'ones' };
