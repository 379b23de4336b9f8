// Idle mode (bottlecap's extension_loop_idle): when the extension cannot instrument (no API key, a
// pipeline that would not start), it still answers /next so the function runs, until SHUTDOWN.
import type { ExtensionClient, NextEvent } from '@dd-lambda/extension-api';
import type { Logger } from '@dd-lambda/logger';

export async function idleUntilShutdown(client: ExtensionClient, log: Logger): Promise<void> {
  for (;;) {
    let ev: NextEvent;
    try {
      ev = await client.next();
    } catch (err) {
      log.error({ err }, '/next failed in idle mode; exiting');
      return;
    }
    if (ev.eventType === 'SHUTDOWN') {
      log.info({ reason: ev.shutdownReason }, 'shutting down (idle)');
      client.close();
      return;
    }
  }
}
