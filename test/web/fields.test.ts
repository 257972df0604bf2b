/**
 * The playground's hyper-parameter fields come from the run configuration's schemas (web/fields.ts, from the
 * catalogue's options): every field is an option of a schema with its type, range, default and doc, and every
 * option of the sections the page exposes is a field (or is named, with the reason, as set otherwise).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { runConfigSchema } from '../../src/train/config.js';
import { fieldSpecs, MAIN, NOT_FIELDS, SECTIONS } from '../../web/fields.js';
import { catalogue, resolveConfig } from '../../web/run.js';

const c = catalogue();
const fields = fieldSpecs(c.options);
type Prop = { type?: string; enum?: string[]; default?: unknown; description?: string; minimum?: number; maximum?: number };
const schemaOf = (key: string): Prop => {
  const [section, leaf] = key.split('.') as [keyof typeof runConfigSchema.shape, string];
  const js = z.toJSONSchema(runConfigSchema.shape[section], { io: 'input' }) as { properties: Record<string, Prop> };
  return js.properties[leaf]!;
};
const safe = (v: number | undefined): number | undefined => (v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined);

test('every field is a schema option with its type, range, default and doc', () => {
  assert.ok(fields.length > MAIN.length, 'more than the main fields');
  for (const f of fields) {
    const p = schemaOf(f.key);
    assert.ok(p, `${f.key} is an option of a schema`);
    assert.ok(f.doc.startsWith(p.description!), `${f.key}: the tooltip is the schema's doc`);
    assert.equal(f.default, p.default === undefined ? undefined : String(p.default), `${f.key} default`);
    if (p.enum) assert.deepEqual([f.kind, f.choices], ['choice', p.enum], `${f.key}: a choice of the schema's values`);
    else if (p.type === 'boolean') assert.deepEqual([f.kind, f.choices], ['choice', ['true', 'false']], `${f.key}: true or false`);
    else {
      assert.equal(f.kind, 'number', f.key);
      assert.equal(f.step, p.type === 'integer' ? '1' : 'any', `${f.key}: integers step by 1`);
      assert.equal(f.min, safe(p.minimum) ?? safe((p as { exclusiveMinimum?: number }).exclusiveMinimum), `${f.key} min`);
      assert.equal(f.max, safe(p.maximum) ?? safe((p as { exclusiveMaximum?: number }).exclusiveMaximum), `${f.key} max`);
    }
  }
});

test('every option of the sections the page exposes is a field, or set otherwise for a named reason', () => {
  const keys = fields.map((f) => f.key);
  for (const s of SECTIONS) {
    for (const k of Object.keys(runConfigSchema.shape[s].shape)) {
      const key = `${s}.${k}`;
      assert.ok(keys.includes(key) !== Object.hasOwn(NOT_FIELDS, key), `${key}: a field, or in NOT_FIELDS (not both)`);
    }
  }
  for (const key of Object.keys(NOT_FIELDS))
    assert.ok(
      c.options.some((o) => o.key === key),
      `${key} (NOT_FIELDS) is an option`,
    );
  assert.deepEqual(
    fields.filter((f) => f.main).map((f) => f.id),
    ['hidden', 'layers', 'batch', 'lr', 'updateEvery', 'steps', 'seed'],
    'the main fields keep the ids older links use',
  );
  assert.equal(new Set(fields.map((f) => f.id)).size, fields.length, 'ids are unique');
});

test("a field's text, as the page sends it, resolves to the option's value; the task preset's values fill the fields", () => {
  const copy = c.tasks.find((t) => t.name === 'copy')!.defaults!;
  for (const f of fields) {
    assert.ok(Object.hasOwn(copy, f.key), `the preset's value of ${f.key} fills its field`);
    const text = String(copy[f.key]);
    const { config } = resolveConfig({ task: 'copy', preset: 'ci', overrides: { [f.key]: text } });
    const [section, leaf] = f.key.split('.') as [string, string];
    assert.equal((config as unknown as Record<string, Record<string, unknown>>)[section]![leaf], copy[f.key], f.key);
  }
  assert.throws(() => resolveConfig({ task: 'copy', preset: 'ci', overrides: { 'model.density': '0' } }), /model\.density/);
});
