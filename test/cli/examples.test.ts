/** The README's quick start runs and learns. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quickstart } from '../../examples/quickstart.js';

test('the quick start trains: the loss after 150 batches is below the loss after 1', () => {
  assert.ok(quickstart(150) < quickstart(1));
});
