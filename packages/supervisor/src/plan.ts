// Which units run on which worker. Units are co-hostable: with one worker they all share it, with
// more they spread out, heaviest first onto the least-loaded thread. A budget larger than the number
// of units is not spent: no CPU pool exists (piscina was planned for the AppSec WAF's evaluations,
// whose issue measures a pool against inline evaluation before one is added).
import type { Config } from '@dd-lambda/config';
import type { UnitSpec } from '@dd-lambda/protocol';

export interface WorkerPlan {
  threads: UnitSpec[][];
}

export function planWorkers(budget: number, units: readonly UnitSpec[]): WorkerPlan {
  if (units.length === 0) return { threads: [] };
  const count = Math.max(1, Math.min(budget, units.length));
  const threads: UnitSpec[][] = Array.from({ length: count }, () => []);
  const load = new Array<number>(count).fill(0);
  const byWeight = [...units].sort((a, b) => (b.weight ?? 1) - (a.weight ?? 1));
  for (const u of byWeight) {
    let best = 0;
    for (let i = 1; i < count; i++) if ((load[i] ?? 0) < (load[best] ?? 0)) best = i;
    threads[best]?.push(u);
    load[best] = (load[best] ?? 0) + (u.weight ?? 1);
  }
  return { threads };
}

/** Units switched off by config (e.g. AppSec unless DD_SERVERLESS_APPSEC_ENABLED) are not started. */
export function enabledUnits(units: readonly UnitSpec[], config: Readonly<Config>): UnitSpec[] {
  return units.filter((u) => u.enabledBy === undefined || (config as unknown as Record<string, unknown>)[u.enabledBy] === true);
}
