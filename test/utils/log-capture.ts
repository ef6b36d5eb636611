import type { LogDestination } from '../../src/operations/logging';

/** One JSON log line as pino writes it. */
export type LogLine = Record<string, unknown> & { level: string; msg: string };

/** A log destination for createTestApp({ logDestination }): keeps every line written, as text and parsed. */
export class LogCapture implements LogDestination {
  private readonly chunks: string[] = [];

  write(chunk: string): void {
    this.chunks.push(chunk);
  }

  text(): string {
    return this.chunks.join('');
  }

  lines(): LogLine[] {
    return this.text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LogLine);
  }

  /** The one-per-request lines (they have a route and a status). */
  requests(): LogLine[] {
    return this.lines().filter((line) => typeof line.route === 'string' && 'status' in line);
  }

  clear(): void {
    this.chunks.length = 0;
  }
}
