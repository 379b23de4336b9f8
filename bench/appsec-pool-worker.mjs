// A piscina worker for the AppSec bench: its own WAF, one invocation (event + response) per task.
import { AppSecProcessor, buildWaf } from '@dd-lambda/appsec';
import { createLogger } from '@dd-lambda/logger';

const waf = buildWaf(undefined);
let verdict;
const processor = new AppSecProcessor({ waf: () => waf, timeoutUs: 5000, emit: (m) => (verdict = m), logger: createLogger({ level: 'silent' }) });

export default function run({ requestId, event, response }) {
  processor.event(requestId, Buffer.from(event));
  processor.result(requestId, 'response', Buffer.from(response));
  return verdict?.meta['appsec.event'] === 'true';
}
