// The output formats' names, and each format's code loaded when a run asks
// for it: a run loads one formatter (and chalk only for stylish).
import type { Formatter } from './types.js';

export const formatNames = ['stylish', 'json', 'sarif', 'github'] as const;

export type FormatName = (typeof formatNames)[number];

export function isFormatName(name: string): name is FormatName {
  return (formatNames as readonly string[]).includes(name);
}

export async function loadFormatter(name: FormatName): Promise<Formatter> {
  switch (name) {
    case 'stylish':
      return (await import('./stylish.js')).formatStylish;
    case 'json':
      return (await import('./json.js')).formatJson;
    case 'sarif':
      return (await import('./sarif.js')).formatSarif;
    case 'github':
      return (await import('./github.js')).formatGithub;
  }
}
