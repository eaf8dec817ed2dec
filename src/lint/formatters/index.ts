// The output formats, by `--format` name (names.ts loads one lazily).
import { formatGithub } from './github.js';
import { formatJson } from './json.js';
import type { FormatName } from './names.js';
import { formatSarif } from './sarif.js';
import { formatStylish } from './stylish.js';
import type { Formatter } from './types.js';

export type { FormatContext, Formatter } from './types.js';
export { formatNames, isFormatName, loadFormatter, type FormatName } from './names.js';

export const formatters = {
  stylish: formatStylish,
  json: formatJson,
  sarif: formatSarif,
  github: formatGithub,
} as const satisfies Record<FormatName, Formatter>;
