// How many worker threads the pipelines get. Lambda gives one vCPU per 1,769 MB, so more threads than
// vCPUs only add start-up contention and ~10 MB each.
import type { WorkerBudgetSource } from './types.js';

export const MB_PER_VCPU = 1769;
export const MAX_WORKERS = 4;
export const MAX_WORKERS_OVERRIDE = 16;

export function workerBudget(memorySizeMB: number | undefined, override: number | undefined): { workers: number; source: WorkerBudgetSource } {
  if (override !== undefined) return { workers: Math.min(Math.max(override, 1), MAX_WORKERS_OVERRIDE), source: 'DD_EXTENSION_WORKERS' };
  if (memorySizeMB === undefined) return { workers: 2, source: 'default' };
  return { workers: Math.min(Math.max(Math.round(memorySizeMB / MB_PER_VCPU), 1), MAX_WORKERS), source: 'memory' };
}
