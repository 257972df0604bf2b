/**
 * `onward schema [--out run.schema.json]`: the JSON Schema of a run config file (`onward train --config run.json`),
 * generated from the schemas of the parts (task, model, learner, optimizer, device, train, eval). Editors that
 * read JSON Schema complete and check a config file that names it in "$schema".
 */
import { writeFileSync } from 'node:fs';
import { runConfigJsonSchema } from '../train/config.js';
import { parse } from './args.js';
import { defineCommand, type OptionTable } from './command.js';

const schemaOptions = {
  out: { type: 'string', value: 'FILE', help: 'write the schema to FILE', defaultText: 'stdout' },
} as const satisfies OptionTable;

async function schemaRun(argv: string[]): Promise<void> {
  const { values } = parse('schema', argv, schemaOptions);
  const text = JSON.stringify(runConfigJsonSchema(), null, 2) + '\n';
  if (typeof values.out === 'string') writeFileSync(values.out, text);
  else process.stdout.write(text);
}

export const schemaCommand = defineCommand({
  name: 'schema',
  summary: "the JSON Schema of a run config file (onward train --config run.json), from the parts' schemas",
  usage: '[--out run.schema.json]',
  options: schemaOptions,
  run: schemaRun,
});
