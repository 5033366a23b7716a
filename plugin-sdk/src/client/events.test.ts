import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ENVELOPE, EVENT_TYPES } from '../events/catalog.ts';
import { renderClientEventTypes } from '../events/clientTypes.ts';

/**
 * The client's event types (events.ts, generated from the catalogue) must say what
 * the catalogue the server validates with says: one interface per event type, the same
 * fields, the same required ones, the same actions. This test reads the TypeScript
 * source, so it fails as soon as either side changes alone.
 */
const source = readFileSync(new URL('./events.ts', import.meta.url), 'utf8');

interface Declared {
  fields: Map<string, { optional: boolean; type: string }>;
}

function declarations(): Map<string, Declared> {
  const out = new Map<string, Declared>();
  for (const m of source.matchAll(/export interface \w+ extends [^{]+\{\n([\s\S]*?)\n\}/g)) {
    const fields = new Map<string, { optional: boolean; type: string }>();
    for (const f of m[1]!.matchAll(/^ {2}(\w+)(\?)?: ([^;]+);/gm)) fields.set(f[1]!, { optional: !!f[2], type: f[3]! });
    const type = /^'(\w+)'$/.exec(fields.get('event_type')?.type ?? '')?.[1];
    if (type) out.set(type, { fields });
  }
  return out;
}

const literals = (t: string) => [...t.matchAll(/'([^']+)'/g)].map((x) => x[1]!).sort();

describe("the client's event types", () => {
  const declared = declarations();

  it('are what scripts/gen-client-events.ts renders from the catalogue today (run it after changing the catalogue)', () => {
    expect(source).toBe(renderClientEventTypes());
  });

  it('declare every event type of the catalogue, and no other', () => {
    expect([...declared.keys()].sort()).toEqual(EVENT_TYPES.map((t) => t.type).sort());
  });

  for (const spec of EVENT_TYPES) {
    it(`${spec.type}: the catalogue's fields, required ones required, its actions`, () => {
      const d = declared.get(spec.type)!;
      const own = [...d.fields.keys()].filter((f) => !(f in ENVELOPE) || spec.fields[f]);
      const expected = [...Object.keys(spec.fields), ...(spec.actions ? ['action'] : [])];
      expect(own.filter((f) => f !== 'event_type').sort()).toEqual(expected.sort());
      for (const f of spec.required) {
        if (f in ENVELOPE && !d.fields.has(f)) continue; // the envelope's own rule (Envelope interface)
        if (['event_id', 'timestamp'].includes(f)) continue; // the client fills them in
        expect(d.fields.get(f)?.optional, `${spec.type}.${f} is required`).toBe(false);
      }
      if (spec.actions) expect(literals(d.fields.get('action')!.type)).toEqual([...spec.actions].sort());
      for (const [name, f] of Object.entries(spec.fields)) {
        if (f.kind === 'enum' && d.fields.get(name) && /'/.test(d.fields.get(name)!.type)) expect(literals(d.fields.get(name)!.type), `${spec.type}.${name}`).toEqual([...f.values!].sort());
      }
    });
  }
});
