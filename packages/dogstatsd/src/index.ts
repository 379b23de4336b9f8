export type { AggregatorOptions } from './aggregator.js';
export { seriesBatches, sketchBatches } from './serialize.js';
export { buildDogStatsD, createUnit } from './unit.js';
export type { DogStatsD, DogStatsDOptions } from './unit.js';
