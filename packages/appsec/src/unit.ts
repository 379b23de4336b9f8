// Worker-host entry (`units/appsec.cjs` in the layer): takes the runtime-API proxy's copies of each
// invocation's event and result; sends verdicts to the trace agent. The WAF builds in the background
// once the unit is up (after the first /next); events that arrive before it is built wait for it.
import type { PipelineUnit, UnitContext } from '@dd-lambda/worker-host';
import type { AppSecErrorCode } from './errors.js';
import { AppSecProcessor } from './processor.js';
import { buildWaf } from './waf.js';
import type { Waf } from './waf.js';

export function createUnit(ctx: UnitContext): PipelineUnit {
  let waf: Waf | undefined;
  let failed = false;
  const waiting: (() => void)[] = [];
  const processor = new AppSecProcessor({
    waf: () => waf,
    timeoutUs: ctx.config.appsecWafTimeoutUs,
    emit: (msg) => ctx.send('trace-agent', msg),
    logger: ctx.logger,
    apiSecurity: { enabled: ctx.config.apiSecurityEnabled, delayS: ctx.config.apiSecuritySampleDelayS },
  });
  // Off the path of the first /next: the worker is already past it when units start; setImmediate
  // lets the READY message go first.
  setImmediate(() => {
    const t0 = performance.now();
    try {
      waf = buildWaf(ctx.config.appsecRules);
      ctx.logger.debug({ ms: Math.round(performance.now() - t0), waf: waf.version, rules: waf.rulesVersion }, 'AppSec WAF ready');
    } catch (err) {
      failed = true;
      ctx.logger.error({ err, code: (err as { code?: AppSecErrorCode }).code }, 'AppSec is off for this sandbox');
    }
    for (const w of waiting.splice(0)) w();
  });
  const whenReady = (fn: () => void): void => {
    if (waf !== undefined) fn();
    else if (!failed) waiting.push(fn);
  };
  return {
    runtime: (requestId, kind, body) => whenReady(() => (kind === 'event' ? processor.event(requestId, body) : processor.result(requestId, kind, body))),
    flush: async () => ({ sent: 0, dropped: 0, pending: 0 }),
    drain: async () => processor.finishAll(),
  };
}
