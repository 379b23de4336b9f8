#!/usr/bin/env node
// dd-fake-intake: serve the fake intake on a port, print one line per request, dump on exit.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildFakeIntake } from './intake.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'api-key': { type: 'string' },
    dump: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: dd-fake-intake [--port N] [--host H] [--api-key KEY] [--dump FILE.json]');
  process.exit(0);
}
const intake = buildFakeIntake(values['api-key'] !== undefined ? { apiKey: values['api-key'] } : {});
intake.on('request', (r: { method: string; path: string; status: number; error?: { message: string } }) => {
  console.log(`${r.status} ${r.method} ${r.path}${r.error ? ` - ${r.error.message}` : ''}`);
});
const url = await intake.listen(Number(values.port), values.host);
console.log(`fake intake listening on ${url}`);
const stop = async (): Promise<void> => {
  await intake.close();
  if (values.dump) writeFileSync(values.dump, intake.dump());
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
