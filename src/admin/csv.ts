import type { Response } from 'express';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * CSV for spreadsheets (RFC 4180): every cell quoted, quotes doubled, rows ended by CRLF.
 * A cell that a spreadsheet would read as a formula (starting with = + - @, a tab or a
 * carriage return) gets a leading apostrophe, so a name like `=HYPERLINK(…)` typed into
 * the app stays text when an admin opens the export (OWASP "CSV Injection").
 */
export function csvCell(value: string | null | undefined): string {
  let text = value ?? '';
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

export function csvRow(cells: (string | null | undefined)[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

/** A file name part from free text: letters and digits of ASCII, words joined by '-'. */
export function fileNamePart(text: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return slug || 'organizer';
}

/**
 * Sends a CSV download, streamed: each chunk (a batch of rows) is written as it is read, with
 * the socket's backpressure, and a turn of the event loop follows every chunk: better-sqlite3
 * answers synchronously, so without it the stream could read batch after batch and keep every
 * other request (a sign-in) waiting. A failure after the headers cuts the connection (pipeline
 * destroys the response), so a broken file never looks complete; it is reported to `failed`.
 */
export async function streamCsv(
  res: Response,
  filename: string,
  chunks: AsyncIterable<string>,
  failed: (message: string) => void,
): Promise<void> {
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
  try {
    await pipeline(Readable.from(withTurns(chunks)), res);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE')
      failed(error instanceof Error ? error.message : String(error));
  }
}

async function* withTurns(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const chunk of chunks) {
    yield chunk;
    await nextTurn();
  }
}
