import { Logger } from '@nestjs/common';

/**
 * Runs a pass every interval, never two at once, and lets shutdown wait for
 * the pass under way. The sweepers share it; each keeps its own `sweep()` so
 * tests can run a pass directly.
 */
export class PeriodicPass {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly pass: () => Promise<unknown>,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.running ??= this.pass()
        .then(() => undefined)
        .catch((error) => this.logger.warn(`sweep failed: ${(error as Error).message}`))
        .finally(() => (this.running = null));
    }, intervalMs);
    // A pending pass must not keep a process alive that is otherwise done.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
