export { startMiniAgent, MINI_AGENT_UNITS, EXIT_MARGIN_MS } from './agent.js';
export type { MiniAgent, MiniAgentOptions } from './agent.js';
