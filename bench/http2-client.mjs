// The client side of bench/http2.mjs, in a fresh process with nothing loaded but what it measures:
//   node bench/http2-client.mjs <h1|h2> <port> <flushes>
const [mode, port, n] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const body = Buffer.alloc(30 * 1024, 'x');
const c0 = cpu();
const mod = mode === 'h2' ? await import('node:http2') : await import('node:https');
const loadMs = cpu() - c0;
let post;
if (mode === 'h2') {
  const session = mod.connect(`https://localhost:${port}`, { rejectUnauthorized: false });
  post = () =>
    new Promise((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/intake', 'content-type': 'application/json', 'content-length': body.length });
      req.on('response', () => undefined);
      req.on('data', () => undefined);
      req.on('end', resolve);
      req.on('error', reject);
      req.end(body);
    });
  process.on('beforeExit', () => session.close());
} else {
  const agent = new mod.Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: false });
  post = () =>
    new Promise((resolve, reject) => {
      const req = mod.request(
        { host: 'localhost', port, path: '/intake', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  process.on('beforeExit', () => agent.destroy());
}
const flush = () => Promise.all([post(), post(), post()]);
const c1 = cpu();
await flush();
const firstMs = cpu() - c1;
const c2 = cpu();
for (let i = 0; i < n; i++) await flush();
const perFlushMs = (cpu() - c2) / n;
process.stdout.write(`${JSON.stringify({ loadMs, firstMs, perFlushMs })}\n`);
process.exit(0);
