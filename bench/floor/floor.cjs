// The floor extension: the least a Node extension that flushes at the end of each invocation can do.
// Plain node:http, no dependency. It registers, subscribes to the Telemetry API with a listener (the
// same buffering the extension asks for), loops on /next and, like `end` flushing, waits for the
// invocation's platform.runtimeDone before asking for the next event. `floor-worker` also starts one
// empty worker thread after the first /next, which is what a worker-based design costs at least.
// Launched by a two-line shell script named after it, with the layer's Node.
'use strict';
const http = require('node:http');
const path = require('node:path');

const name = path.basename(process.argv[2] || 'floor');
const [host, port] = (process.env.AWS_LAMBDA_RUNTIME_API || '').split(':');
const telemetryPort = Number(process.env.FLOOR_TELEMETRY_PORT || 0);
const agent = new http.Agent({ keepAlive: true });

function call(method, p, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), method, path: p, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const done = new Set();
const waiters = new Map();
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200).end();
    let batch = [];
    try {
      batch = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return;
    }
    for (const e of batch) {
      if (e.type !== 'platform.runtimeDone') continue;
      const w = waiters.get(e.record.requestId);
      if (w) w();
      else done.add(e.record.requestId);
    }
  });
});

function runtimeDone(id, deadlineMs) {
  if (done.delete(id)) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, Math.max(0, deadlineMs - Date.now()));
    waiters.set(id, () => {
      clearTimeout(t);
      waiters.delete(id);
      resolve();
    });
  });
}

async function main() {
  const reg = await call(
    'POST',
    '/2020-01-01/extension/register',
    { 'Lambda-Extension-Name': name, 'Content-Type': 'application/json' },
    JSON.stringify({ events: ['INVOKE', 'SHUTDOWN'] }),
  );
  const id = reg.headers['lambda-extension-identifier'];
  await new Promise((r) => server.listen(telemetryPort, '0.0.0.0', r));
  await call(
    'PUT',
    '/2022-07-01/telemetry',
    { 'Lambda-Extension-Identifier': id, 'Content-Type': 'application/json' },
    JSON.stringify({
      schemaVersion: '2022-12-13',
      types: ['platform', 'function', 'extension'],
      buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
      destination: { protocol: 'HTTP', URI: `http://sandbox:${server.address().port}/` },
    }),
  );
  let first = true;
  for (;;) {
    const pending = call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
    if (first) {
      first = false;
      if (name === 'floor-worker') {
        const { Worker } = require('node:worker_threads');
        const w = new Worker("require('node:worker_threads').parentPort.postMessage('ready')", { eval: true });
        w.once('message', () => process.stdout.write('FLOOR READY\n'));
        w.unref();
      } else {
        process.stdout.write('FLOOR READY\n');
      }
    }
    const ev = JSON.parse((await pending).body);
    if (ev.eventType === 'SHUTDOWN') process.exit(0);
    await runtimeDone(ev.requestId, ev.deadlineMs);
  }
}

main().catch((err) => {
  process.stderr.write(`floor: ${err.stack}\n`);
  process.exit(1);
});
