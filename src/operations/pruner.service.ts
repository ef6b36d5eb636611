import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';

export const PRUNE_EVERY_MS = 10 * 60 * 1000;

/** One cleaning job: deletes what has expired and answers how many rows went. */
export interface PruneStep {
  name: string;
  run(): Promise<number>;
}

/**
 * Deletes what has expired, every 10 minutes: expired sessions, old attempt counters, audit
 * events past AUDIT_RETENTION_DAYS, and whatever else a feature registers (the outbox's sent
 * mail). A leaf like common: the features' steps are registered from outside (app.setup.ts),
 * so it imports none. A step that fails is logged and the others still run; the timer is
 * started by main.ts only (tests run `runOnce` themselves) and stopped before the database
 * closes at shutdown, waiting for a run in progress.
 */
@Injectable()
export class PrunerService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Pruner');
  private readonly steps: PruneStep[] = [];
  private timer?: NodeJS.Timeout;
  private running?: Promise<Record<string, number | 'failed'>>;

  /** Adds a step; a second step of the same name replaces the first. */
  register(name: string, run: () => Promise<number>): void {
    const at = this.steps.findIndex((step) => step.name === name);
    if (at >= 0) this.steps.splice(at, 1);
    this.steps.push({ name, run });
  }

  get stepNames(): string[] {
    return this.steps.map((step) => step.name);
  }

  start(everyMs = PRUNE_EVERY_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), everyMs);
    this.timer.unref();
  }

  /** Runs every step once, one after the other (a run already going is joined, not doubled). */
  runOnce(): Promise<Record<string, number | 'failed'>> {
    this.running ??= this.runSteps().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async runSteps(): Promise<Record<string, number | 'failed'>> {
    const result: Record<string, number | 'failed'> = {};
    for (const step of [...this.steps]) {
      try {
        result[step.name] = await step.run();
      } catch (error) {
        result[step.name] = 'failed';
        this.logger.warn(`Pruning ${step.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const removed = Object.entries(result).filter(([, count]) => typeof count === 'number' && count > 0);
    if (removed.length) this.logger.log(`Pruned ${removed.map(([name, count]) => `${count} ${name}`).join(', ')}`);
    return result;
  }
}
