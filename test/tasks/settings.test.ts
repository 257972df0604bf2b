/**
 * Task settings declared once (tasks/settings.ts): every task's presets hold to its declarations, every setting
 * has a line of documentation, and the same declarations check `--set task.X=…` (before a task is built), a
 * config file (the JSON Schema `onward schema` writes names each task's settings) and `onward list --task`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { presets, taskTable } from '../../src/tasks/index.js';
import { resolveRunConfig, runConfigJsonSchema } from '../../src/train/config.js';
import { taskSettings } from '../../src/cli/list.js';

test('every task declares each setting of its presets, with a doc, and its presets hold to the declarations', () => {
  for (const t of taskTable) {
    const { declared, schema } = t.settingTable;
    for (const p of presets) {
      const values = t.settingTable.presets[p];
      assert.deepEqual(Object.keys(values), Object.keys(declared), `${t.name} ${p}: the preset gives every declared setting`);
      assert.ok(schema.safeParse(values).success, `${t.name} ${p}: the preset's values pass the schema`);
    }
    for (const [k, d] of Object.entries(declared)) assert.ok(d.doc.length > 10, `${t.name}.${k} is documented`);
  }
});

test("--set task.X is checked by the task's declaration when the config resolves, naming the setting and its doc", () => {
  const at = (name: string, settings: Record<string, number>) => () => resolveRunConfig({ task: { name, settings } });
  assert.throws(
    at('copy', { bitz: 3 }),
    (e: unknown) => e instanceof ConfigError && /unknown setting 'bitz'; settings: bits, pattern, pad/.test(e.message),
  );
  assert.throws(at('copy', { bits: 0 }), /setting bits must be a positive integer, got 0 \(bits per pattern step/);
  assert.throws(at('seq-image', { order: 3 }), /setting order must be an integer from 1 to 2, got 3 .*pixels \(1\), rows \(2\)/);
  assert.throws(at('cue-accumulation', { cueRate: 101 }), /cueRate must be an integer from 1 to 100/);
  assert.throws(at('adding', { length: 1 }), /length must be an integer ≥ 2/, 'no longer raised to 2 silently');
  // 0 where it means something: raster order, every step trained, no pixel noise
  assert.deepEqual(at('seq-image', { permute: 0, readout: 0, noise: 0 })().task.settings, {
    permute: 0,
    readout: 0,
    noise: 0,
  });
});

test("onward schema names each task's settings, with their checks and docs; onward list --task shows the same docs", () => {
  const task = (runConfigJsonSchema().properties as Record<string, { allOf: { if: unknown; then: unknown }[] }>).task!;
  assert.equal(task.allOf.length, taskTable.length);
  for (const t of taskTable) {
    const rule = task.allOf.find((r) => JSON.stringify(r.if).includes(`"const":"${t.name}"`));
    const settings = (
      rule!.then as {
        properties: { settings: { properties: Record<string, { description: string; minimum: number }>; additionalProperties: boolean } };
      }
    ).properties.settings;
    assert.deepEqual(Object.keys(settings.properties), Object.keys(t.settingTable.declared), t.name);
    assert.equal(settings.additionalProperties, false);
    for (const [k, d] of Object.entries(t.settingTable.declared)) {
      assert.equal(settings.properties[k]!.minimum, d.min, `${t.name}.${k} minimum`);
      assert.ok(settings.properties[k]!.description.startsWith(d.doc), `${t.name}.${k} doc`);
    }
    const listed = taskSettings(t).settings;
    for (const s of listed) assert.equal(s.help, t.settingTable.declared[s.name]!.doc, `onward list --task ${t.name}: ${s.name}`);
  }
});
