// The OTLP trace receiver end to end: the real OpenTelemetry SDK and its three OTLP exporters (HTTP
// JSON, HTTP protobuf, gRPC) inside a function under the emulator, the built extension mapping the
// spans, and the fake intake decoding AgentPayload strictly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { SpanRecord } from '@dd-lambda/fake-intake';
import { fixtures, freeTcpPort, rig } from './helpers.js';

const FUNCTION = { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'otlp-function') } };

interface Ids {
  trace: string;
  root: string;
  child: string;
  failed: string;
}

const id64 = (hex: string): bigint => BigInt(`0x${hex}`);

function check(records: SpanRecord[], ids: Ids, protocol: string): void {
  const find = (hex: string): SpanRecord => {
    const r = records.find((x) => x.span.spanID === id64(hex));
    assert.ok(r, `${protocol}: span ${hex} reached the intake`);
    return r;
  };
  const root = find(ids.root);
  const child = find(ids.child);
  const failed = find(ids.failed);
  for (const r of [root, child, failed]) {
    assert.equal(r.span.traceID, id64(ids.trace.slice(16)), 'low 64 bits of the trace id');
    assert.equal(r.span.meta['_dd.p.tid'], ids.trace.slice(0, 16), 'high 64 bits');
    assert.equal(r.span.meta['otel.trace_id'], ids.trace);
    assert.equal(r.span.service, 'otel-orders');
    assert.equal(r.span.meta['env'], 'staging');
    assert.equal(r.span.meta['version'], '1.2.3');
    assert.equal(r.span.meta['team.name'], 'checkout', 'resource attributes become tags');
    assert.equal(r.span.meta['otel.scope.name'], 'orders-lib');
    assert.equal(r.span.meta['_dd.origin'], 'lambda');
    assert.equal(r.span.meta['functionname'], 'test_function', 'function tags, as on tracer spans');
    assert.match(r.tracerPayload.tracerVersion, /^otlp-\d/);
    assert.equal(r.tracerPayload.languageName, 'nodejs');
  }
  assert.deepEqual(
    [root.span.name, root.span.resource, root.span.type, root.span.meta['span.kind'], root.span.parentID],
    ['http.server.request', 'POST /orders/{id}', 'web', 'server', 0n],
  );
  assert.equal(root.span.metrics['http.status_code'], 201);
  assert.deepEqual([root.span.metrics['order.items'], root.span.metrics['order.total'], root.span.meta['order.gift']], [3, 12.5, 'true'], 'numbers are metrics, the rest meta');
  assert.equal(root.span.metrics['_top_level'], 1);
  assert.deepEqual(
    [child.span.name, child.span.resource, child.span.type, child.span.meta['span.kind'], child.span.parentID, child.span.metrics['_dd.measured']],
    ['http.client.request', 'GET', 'http', 'client', id64(ids.root), 1],
  );
  assert.equal(failed.span.error, 1);
  assert.deepEqual(
    [failed.span.meta['error.msg'], failed.span.meta['error.type'], failed.span.meta['otel.status_code'], failed.span.meta['_dd.span_events.has_exception']],
    ['card declined', 'PaymentError', 'Error', 'true'],
  );
  assert.match(failed.span.meta['error.stack'] ?? '', /card declined/);
  const events = JSON.parse(failed.span.meta['events'] ?? '[]') as { name: string }[];
  assert.equal(events[0]?.name, 'exception');
  assert.deepEqual(
    failed.span.spanLinks.map((l) => [l.spanID, l.traceID, l.attributes['reason']]),
    [[id64(ids.child), id64(ids.trace.slice(16)), 'retry-of']],
  );
}

for (const protocol of ['http/json', 'http/protobuf', 'grpc'] as const) {
  test(`OTLP ${protocol}: the real exporter's spans are mapped, processed and shipped with the function's tags`, async () => {
    const httpPort = await freeTcpPort();
    const grpcPort = await freeTcpPort();
    const port = protocol === 'grpc' ? grpcPort : httpPort;
    const r = await rig(
      undefined,
      {
        DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT: `localhost:${httpPort}`,
        DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_ENDPOINT: `localhost:${grpcPort}`,
        OTLP_TEST_PROTOCOL: protocol,
        OTLP_TEST_ENDPOINT: `http://127.0.0.1:${port}`,
      },
      FUNCTION,
    );
    try {
      const results = [];
      for (let i = 0; i < 2; i++) {
        const res = await r.emu.invoke({ order: i });
        assert.equal(res.status, 'success', res.payload.toString());
        results.push(JSON.parse(res.payload.toString()) as Ids);
      }
      await r.emu.shutdown();
      const records = r.intake.spans();
      for (const ids of results) check(records, ids, protocol);
      assert.equal(r.intake.requests({ accepted: false }).length, 0);
    } finally {
      await r.done();
    }
  });
}
