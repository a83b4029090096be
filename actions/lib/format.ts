const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${UNITS[unit]}`;
}

export function formatRate(bytes: number, seconds: number): string {
  return seconds > 0 ? `${formatBytes(bytes / seconds)}/s` : 'n/a';
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/**
 * A progress line: `label: 1.2 GiB of 4.0 GiB (30%), 85.0 MiB/s, ETA 34.0 s` when the total is known, else
 * `label: 1.2 GiB so far, 85.0 MiB/s`. A terminal shows these as one live line (isProgressLine).
 */
export function formatProgress(label: string, done: number, total: number | undefined, seconds: number): string {
  const rate = formatRate(done, seconds);
  if (total === undefined || total <= 0) return `${label}: ${formatBytes(done)} so far, ${rate}`;
  const percent = Math.min(100, Math.floor((100 * done) / total));
  const eta = done > 0 && seconds > 0 ? formatSeconds(Math.max(0, total - done) / (done / seconds)) : 'unknown';
  return `${label}: ${formatBytes(done)} of ${formatBytes(total)} (${percent}%), ${rate}, ETA ${eta}`;
}

/** Whether a log line is one formatProgress made (the CLI shows those as a live line on a terminal). */
export function isProgressLine(line: string): boolean {
  return /: [\d.]+ [KMGT]?i?B (so far|of [\d.]+ [KMGT]?i?B \(\d+%\)), (n\/a|[\d.]+ [KMGT]?i?B\/s)(, ETA .+)?$/.test(
    line,
  );
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** A Markdown table; cells are escaped so a table name with a pipe cannot break the layout. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const escapeCell = (cell: string | number): string => String(cell).replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [header, header.map(() => '---'), ...rows].map((row) => `| ${row.map(escapeCell).join(' | ')} |`);
  return lines.join('\n');
}

/** `1 hypertable`, `2 hypertables`: a count with its noun in the right number. */
export function countOf(count: number, noun: string): string {
  return `${formatCount(count)} ${count === 1 ? noun : `${noun}s`}`;
}

/**
 * What a text that `new URL()` refused is, to follow "is" in an error message: a port out of range is said as such,
 * not as "not a URL". Never quotes the text (it may hold a password).
 */
export function whyNotAUrl(text: string): string {
  const port = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)(?:[/?#]|$)/i.exec(text)?.[1];
  if (port !== undefined && Number(port) > 65_535)
    return `a URL with port ${port}, out of range (ports go up to 65535)`;
  return 'not a URL';
}

/**
 * An http(s) URL, or what the text is instead (to follow "is" in an error message, never quoting the text: webhook
 * and heartbeat URLs are secrets).
 */
export function parseHttpUrl(text: string): URL | { why: string } {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    return { why: whyNotAUrl(text).replace('not a URL', 'not an http(s) URL') };
  }
  return ['http:', 'https:'].includes(url.protocol) ? url : { why: 'not an http(s) URL' };
}

/**
 * The start of a body another service sent, safe to quote inside one log line: line breaks and runs of spaces as
 * one space, other control characters as "?", cut after `max` characters, in quotes.
 */
export function quoteStart(text: string, max = 60): string {
  const flat = text
    .replace(/\s+/g, ' ')
    .replace(/\p{Cc}/gu, '?')
    .trim();
  return `"${flat.length > max ? `${flat.slice(0, max)}…` : flat}"`;
}
