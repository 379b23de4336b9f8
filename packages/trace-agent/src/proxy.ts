// The APM proxy routes of Datadog's extension: request bodies are buffered and forwarded at the
// next flush to the product's intake, tagged as coming from this function.

export interface ProxyRoute {
  /** Local path the tracer posts to. */
  path: string;
  /** Product host prefix under the site (`intake.profile` → https://intake.profile.<site>). */
  host: string;
  /** Path on that host. */
  target: string;
}

export const PROXY_ROUTES: readonly ProxyRoute[] = [
  { path: '/v0.1/pipeline_stats', host: 'trace.agent', target: '/api/v0.1/pipeline_stats' },
  { path: '/profiling/v1/input', host: 'intake.profile', target: '/api/v2/profile' },
  { path: '/evp_proxy/v2/api/intake/llm-obs/v1/eval-metric', host: 'api', target: '/api/intake/llm-obs/v1/eval-metric' },
  { path: '/evp_proxy/v2/api/intake/llm-obs/v2/eval-metric', host: 'api', target: '/api/intake/llm-obs/v2/eval-metric' },
  { path: '/evp_proxy/v2/api/v2/llmobs', host: 'llmobs-intake', target: '/api/v2/llmobs' },
  { path: '/debugger/v1/input', host: 'http-intake.logs', target: '/api/v2/logs' },
  { path: '/debugger/v2/input', host: 'debugger-intake', target: '/api/v2/debugger' },
  { path: '/debugger/v1/diagnostics', host: 'debugger-intake', target: '/api/v2/debugger' },
  { path: '/telemetry/proxy/api/v2/apmtelemetry', host: 'instrumentation-telemetry-intake', target: '/api/v2/apmtelemetry' },
];

/** Request headers never forwarded: hop-by-hop, recomputed, or the tracer's own credentials. */
const NOT_FORWARDED = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'dd-api-key', 'content-type', 'expect', 'te', 'upgrade', 'user-agent']);

export function forwardedHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, functionName: string, origin = 'lambda'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const key = k.toLowerCase();
    if (v === undefined || NOT_FORWARDED.has(key)) continue;
    out[key] = Array.isArray(v) ? v.join(', ') : v;
  }
  out['x-datadog-additional-tags'] = `_dd.origin:${origin};functionname:${functionName}`;
  return out;
}

export function proxyUrl(route: ProxyRoute, site: string, base: string | undefined): string {
  return `${base ?? `https://${route.host}.${site}`}${route.target}`;
}
