/**
 * A step summary (GitHub-flavoured Markdown) as a terminal shows it: headings underlined, tables as aligned
 * columns, emphasis, code and link marks dropped (a link keeps its address), HTML tags gone. Only what the
 * summaries use is handled; anything else passes through as it is.
 */
export function markdownToText(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    if (isTableRow(line)) {
      const rows: string[] = [];
      while (index < lines.length && isTableRow(lines[index]!)) rows.push(lines[index++]!);
      index -= 1;
      out.push(...alignedTable(rows));
    } else if (/^```/.test(line)) {
      // Fences go; their contents stay exactly as written: commands and configuration lines are copied from here.
      while (++index < lines.length && !/^```/.test(lines[index]!)) out.push(lines[index]!);
    } else {
      const heading = /^#{1,6}\s+(.*)$/.exec(line);
      if (heading) {
        const text = inline(heading[1]!);
        out.push(text, '─'.repeat(displayWidth(text)));
      } else {
        out.push(inline(line));
      }
    }
  }
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const isTableRow = (line: string): boolean => /^\s*\|.*\|\s*$/.test(line);

/** The cells of a `| a | b |` row; `\|` is a pipe inside a cell. */
function cells(row: string): string[] {
  return row
    .trim()
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((cell) => inline(cell.trim().replace(/\\\|/g, '|')));
}

function alignedTable(rows: string[]): string[] {
  const parsed = rows.map(cells);
  const separator = parsed.findIndex((row) => row.every((cell) => /^:?-{3,}:?$/.test(cell)));
  const body = parsed.filter((_, index) => index !== separator);
  const widths = body[0]?.map((_, column) => Math.max(...body.map((row) => displayWidth(row[column] ?? '')))) ?? [];
  const format = (row: string[]): string =>
    row
      .map((cell, column) => cell + ' '.repeat(Math.max(0, (widths[column] ?? 0) - displayWidth(cell))))
      .join('  ')
      .trimEnd();
  const lines = body.map(format);
  // The header (the rows above the separator) underlined.
  if (separator > 0) lines.splice(separator, 0, widths.map((width) => '─'.repeat(width)).join('  '));
  return lines;
}

/** Inline Markdown and HTML dropped: **bold**, `code`, [text](url) → text (url), <br> → space, other tags gone. */
function inline(text: string): string {
  return text
    .replace(/<br\s*\/?>/gi, ' ')
    .replace(/<\/?[a-z][^>]*>/gi, '')
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_, label: string, url: string) => (label === url ? url : `${label} (${url})`))
    .replace(/\*\*([^*]+)\*\*/g, '$1')
    .replace(/(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])/g, '$1')
    .replace(/`([^`]+)`/g, '$1')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Combining marks, the zero-width joiner and the variation selectors take no column. */
const ZERO_WIDTH = /^(?:\p{Mn}|\p{Me}|\u200d|\ufe0e|\ufe0f)$/u;

/** Columns a text takes in a terminal: emoji and wide (East Asian) characters two, combining marks none. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    if (ZERO_WIDTH.test(char)) continue;
    width += /[\p{Extended_Pictographic}\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]/u.test(char)
      ? 2
      : 1;
  }
  return width;
}
