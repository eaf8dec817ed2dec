// Test support: a fixture project's `store-lint.config.json` as the loaded
// config the analyser takes (the real loader lives in src/lint; the analyser
// only needs the shape, with the documented defaults).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppConfig, StoreLintConfig } from '../../src/analysis/config.js';

export const FIXTURES = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'analysis',
);

interface RawConfig {
  schema?: string[];
  apps?: Record<
    string,
    { role: 'writer' | 'worker'; store: string; entry?: string[]; writes?: string[] }
  >;
  stores?: string[];
  naming?: 'snake_case' | 'camelCase';
  tsconfig?: string;
}

export function configFor(root: string, raw?: RawConfig): StoreLintConfig {
  const configPath = path.join(root, 'store-lint.config.json');
  const json = raw ?? (JSON.parse(readFileSync(configPath, 'utf8')) as RawConfig);
  const apps: Record<string, AppConfig> = {};
  for (const [name, app] of Object.entries(json.apps ?? {})) {
    apps[name] = {
      role: app.role,
      store: app.store,
      entry: app.entry ?? [],
      writes: app.writes ?? [],
    };
  }
  return {
    root,
    configPath,
    schema: json.schema ?? [],
    apps,
    stores: json.stores ?? [],
    naming: json.naming ?? 'snake_case',
    rules: {},
    tsconfig: json.tsconfig ?? 'tsconfig.json',
  };
}

export function fixtureConfig(name: string): StoreLintConfig {
  return configFor(path.join(FIXTURES, name));
}
