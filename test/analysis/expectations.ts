// Test support: compares a model with a fixture's `expected.json`.
// - `methods`: "Store.method" → a subset of that MethodInfo (e.g. reads/writes);
// - `compositions`: name → { mixins?, methods?: { name: { reads, writes, store } } };
// - `stores`: exportName → a subset of StoreInfo; `notStores`: export names that must not be stores;
// - `apps`: name → a subset of AppInfo, with `calls` as [method, receiverType, file, line];
// - `unresolved`: the exact list of [kind, file, line] (absent means none);
// - `schemaTables`, `streams`: exact;
// - `checkerCreated`: whether the run needed the type checker.
import { expect } from 'vitest';
import { lastAnalysisStats, type StoreModel } from '../../src/analysis/index.js';

export interface Expected {
  readonly schemaTables?: string[];
  readonly streams?: Record<string, { tables: string[]; kind: string }>;
  readonly methods?: Record<string, Record<string, unknown>>;
  readonly stores?: Record<string, Record<string, unknown>>;
  /** Export names that must not be analysed as stores (functions shaped like mixins). */
  readonly notStores?: string[];
  readonly compositions?: Record<
    string,
    {
      mixins?: string[];
      ownStore?: string | null;
      methods?: Record<string, Record<string, unknown>>;
    }
  >;
  readonly apps?: Record<
    string,
    { calls?: [string, string, string, number][]; modules?: string[]; [k: string]: unknown }
  >;
  readonly unresolved?: [string, string, number][];
  readonly suppressions?: [string, number][];
  /** Whether analysing the fixture needed the type checker (it should only where syntax cannot decide). */
  readonly checkerCreated?: boolean;
}

export function checkExpectations(model: StoreModel, expected: Expected): void {
  if (expected.schemaTables) expect(model.schemaTables).toEqual(expected.schemaTables);
  if (expected.streams) {
    expect(
      Object.fromEntries(model.streams.map((s) => [s.name, { tables: s.tables, kind: s.kind }])),
    ).toEqual(expected.streams);
  }
  for (const [key, want] of Object.entries(expected.methods ?? {})) {
    const [storeName, methodName] = key.split('.') as [string, string];
    const store = model.stores.find((s) => s.exportName === storeName);
    expect(store, `store ${storeName}`).toBeDefined();
    const method = store!.methods.find((m) => m.name === methodName);
    expect(method, `method ${key}`).toBeDefined();
    expect({ [key]: method }).toMatchObject({ [key]: want });
  }
  for (const [name, want] of Object.entries(expected.stores ?? {})) {
    const store = model.stores.find((s) => s.exportName === name);
    expect(store, `store ${name}`).toBeDefined();
    expect({ [name]: store }).toMatchObject({ [name]: want });
  }
  for (const name of expected.notStores ?? []) {
    expect(
      model.stores.map((s) => s.exportName),
      `${name} is not a store`,
    ).not.toContain(name);
  }
  for (const [name, want] of Object.entries(expected.compositions ?? {})) {
    const comp = model.compositions.find((c) => c.name === name);
    expect(comp, `composition ${name}`).toBeDefined();
    if (want.mixins) expect(comp!.mixins).toEqual(want.mixins);
    if (want.ownStore !== undefined) expect(comp!.ownStore).toEqual(want.ownStore);
    if (want.methods) {
      const got = Object.fromEntries(comp!.methods.map((m) => [m.name, m]));
      expect(Object.keys(got).sort()).toEqual(Object.keys(want.methods).sort());
      expect(got).toMatchObject(want.methods);
    }
  }
  for (const [name, want] of Object.entries(expected.apps ?? {})) {
    const app = model.apps.find((a) => a.name === name);
    expect(app, `app ${name}`).toBeDefined();
    const { calls, ...rest } = want;
    expect(app).toMatchObject(rest);
    if (calls) {
      expect(
        app!.calls.map((c) => [c.method, c.receiverType, c.location.file, c.location.line]),
      ).toEqual(calls);
    }
  }
  expect(model.unresolved.map((u) => [u.kind, u.location.file, u.location.line])).toEqual(
    expected.unresolved ?? [],
  );
  if (expected.checkerCreated !== undefined) {
    expect(lastAnalysisStats()?.checkerCreated).toBe(expected.checkerCreated);
  }
  if (expected.suppressions) {
    expect(model.suppressions.map((s) => [s.ruleId, s.appliesToLine])).toEqual(
      expected.suppressions,
    );
  }
}
