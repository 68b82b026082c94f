import type { ShutdownLogger } from './shutdown.js';

/** One named clean-up step of a shutdown. */
export type CloseStep = readonly [name: string, close: () => unknown];

/**
 * Runs clean-up steps one after another, each in its own try/catch (BullMQ's `close()` rule), so one that fails
 * is logged by name and does not leave the rest open.
 */
export async function closeInOrder(logger: ShutdownLogger, steps: readonly CloseStep[]): Promise<void> {
  for (const [name, close] of steps) {
    try {
      await close();
    } catch (err) {
      logger.error({ err, step: name }, 'Error while shutting down');
    }
  }
}
