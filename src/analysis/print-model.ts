// `store-lint --print-model`: the model as pretty JSON. The root is printed as
// given; every other path in the model is already relative to it.
import type { StoreModel } from './model.js';

export function printModel(model: StoreModel): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}
