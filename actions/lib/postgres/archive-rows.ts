/**
 * Exact row counts read from a pg_dump custom-format archive as it streams past, so the dump's database is read
 * once (by pg_dump), not twice (pg_dump and a count(*) of every table in the same snapshot).
 *
 * The archive, uncompressed (`--compress=0`), as pg_dump 12–18 writes it to a pipe (pg_backup_archiver.c and
 * pg_backup_custom.c describe it; the header and TOC come first because a pipe cannot be rewritten at the end):
 * - header: `PGDMP`, version major/minor/revision bytes, int size, offset size, format byte, then the compression
 *   (a byte from archive version 1.15, an int before), the creation time (7 ints), the database name and the server
 *   and pg_dump versions (strings);
 * - the TOC: an int count, then per entry its dump id, had-dumper flag, table oid, oid, tag, desc, section, defn,
 *   drop statement, copy statement, namespace, tablespace, table access method (1.14+), relkind (1.16+ as an int),
 *   owner, the "with oids" string, the dependency strings ended by a NULL string, and the data offset (a flag byte
 *   and an offset);
 * - data blocks: a type byte (1 = table data, 3 = large objects) and the entry's dump id, then chunks (an int length
 *   and that many bytes) ended by a zero length; large objects repeat (oid, chunks) ended by a zero oid.
 * An int is a sign byte and `intSize` bytes, little-endian; a string is an int length (-1: NULL) and its bytes.
 *
 * COPY's text format ends every row with a newline and escapes newlines inside values (`\n`), so a table's row
 * count is the number of newline bytes in its data chunks, less the three of the end marker pg_dump writes after
 * the rows (`\.` and two empty lines). A block that does not end with that marker is not read as rows. The bytes
 * of a table's rows are counted on the way: the weight of each table in the dump, for the trends, at no extra read.
 */

const MAGIC = Buffer.from('PGDMP');
const FORMAT_CUSTOM = 1;
const BLOCK_DATA = 1;
const BLOCK_LARGE_OBJECTS = 3;
/** What pg_dump writes after a table's COPY rows: `\.`, then two empty lines. */
const END_OF_COPY = Buffer.from('\\.\n\n\n');

/** Archive versions as pg_dump numbers them: (major * 256 + minor) * 256 + revision. */
const version = (major: number, minor: number): number => (major * 256 + minor) * 256;
const OLDEST_READ = version(1, 12);
const NEWEST_READ = version(1, 16);

/** A table-data entry of the TOC: where a table's rows are in the data blocks. */
interface DataEntry {
  schema: string;
  name: string;
  rows: number;
  /** Bytes of its rows in COPY text, the end marker left out: what the table weighs in the dump. */
  bytes: number;
}

/** Thrown inside the parser when the bytes received so far end in the middle of what it is reading. */
class NeedMore extends Error {}

/** The archive is not one this reader understands; the caller counts with count(*) instead. */
export class UnreadableArchiveError extends Error {
  override name = 'UnreadableArchiveError';
}

/**
 * Feed it every chunk of pg_dump's stdout, in order, then call finish(). It never changes or holds on to the data
 * blocks (only the header and the TOC, which are small, are buffered until they are whole).
 */
export class ArchiveRowCounter {
  private intSize = 4;
  private offsetSize = 8;
  private archiveVersion = 0;
  private readonly entries = new Map<number, DataEntry>();
  private phase: 'header' | 'toc' | 'blocks' = 'header';
  private tocLeft = 0;
  /** Bytes not yet parsed: the header or TOC so far, or a block header split between two chunks. */
  private pending: Buffer = Buffer.alloc(0);
  private block: { kind: 'none' } | { kind: 'data'; entry: DataEntry | undefined } | { kind: 'objects' } = {
    kind: 'none',
  };
  /** Inside large objects: waiting for an object's oid (true) or in its chunks (false). */
  private awaitingOid = true;
  /** Bytes of the current chunk still to come. */
  private chunkLeft = 0;
  /** The last bytes of the current table's data, to find the end marker. */
  private readonly tail = Buffer.alloc(END_OF_COPY.length);
  private tailLength = 0;

  push(chunk: Buffer): void {
    let buffer = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    if (this.phase !== 'blocks') {
      const read = this.readHeaderAndToc(buffer);
      at = read.at;
      if (!read.done) {
        this.pending = buffer.subarray(at);
        return;
      }
    }
    at = this.readBlocks(buffer, at);
    buffer = buffer.subarray(at);
    // Keep a split block header (a few bytes) for the next chunk; never the data itself.
    this.pending = buffer.length > 0 ? Buffer.from(buffer) : Buffer.alloc(0);
  }

  /** Row counts and COPY bytes by `schema.name`, once the whole archive has been pushed. */
  finish(): Map<string, { schema: string; name: string; rows: number; bytes: number }> {
    if (this.phase !== 'blocks' || this.chunkLeft > 0 || this.block.kind !== 'none' || this.pending.length > 0) {
      throw new UnreadableArchiveError('the archive ended in the middle of its header, TOC or a data block');
    }
    const counts = new Map<string, DataEntry>();
    for (const entry of this.entries.values()) counts.set(`${entry.schema}.${entry.name}`, entry);
    return counts;
  }

  // ---- header and TOC: parsed entry by entry; an entry cut off by the chunk's end is read again with more bytes

  private readHeaderAndToc(buffer: Buffer): { at: number; done: boolean } {
    const reader = new Reader(buffer, this.intSize, this.offsetSize);
    let committed = 0;
    try {
      if (this.phase === 'header') {
        this.readHeader(reader);
        this.tocLeft = reader.int();
        this.phase = 'toc';
        committed = reader.at;
      }
      while (this.tocLeft > 0) {
        this.readTocEntry(reader);
        this.tocLeft -= 1;
        committed = reader.at;
      }
      this.phase = 'blocks';
      return { at: committed, done: true };
    } catch (error) {
      if (!(error instanceof NeedMore)) throw error;
      return { at: committed, done: false };
    }
  }

  private readHeader(reader: Reader): void {
    if (!reader.bytes(5).equals(MAGIC)) throw new UnreadableArchiveError('it does not start with PGDMP');
    const [major, minor, revision] = [reader.byte(), reader.byte(), reader.byte()];
    this.archiveVersion = (major * 256 + minor) * 256 + revision;
    if (this.archiveVersion < OLDEST_READ || this.archiveVersion > NEWEST_READ + 255) {
      throw new UnreadableArchiveError(`archive version ${major}.${minor}.${revision} is not one this reader knows`);
    }
    this.intSize = reader.byte();
    this.offsetSize = reader.byte();
    reader.intSize = this.intSize;
    reader.offsetSize = this.offsetSize;
    if (reader.byte() !== FORMAT_CUSTOM) throw new UnreadableArchiveError('it is not the custom format');
    const compressed = this.archiveVersion >= version(1, 15) ? reader.byte() !== 0 : reader.int() !== 0;
    if (compressed) throw new UnreadableArchiveError('its data is compressed (the dump must use --compress=0)');
    for (let field = 0; field < 7; field++) reader.int(); // creation time
    reader.string(); // database name
    reader.string(); // server version
    reader.string(); // pg_dump version
  }

  private readTocEntry(reader: Reader): void {
    const dumpId = reader.int();
    reader.int(); // had a data dumper
    reader.string(); // table oid
    reader.string(); // oid
    const tag = reader.string();
    const desc = reader.string();
    reader.int(); // section
    reader.string(); // definition
    reader.string(); // drop statement
    reader.string(); // copy statement
    const namespace = reader.string();
    reader.string(); // tablespace
    reader.string(); // table access method (1.14+; the oldest version read is 1.12)
    if (this.archiveVersion >= version(1, 16)) reader.int(); // relkind
    reader.string(); // owner
    reader.string(); // "with oids"
    while (reader.string() !== null); // dependencies, ended by a NULL string
    reader.offset();
    if (desc === 'TABLE DATA' && tag !== null)
      this.entries.set(dumpId, { schema: namespace ?? '', name: tag, rows: 0, bytes: 0 });
  }

  // ---- data blocks: walked in place, counting newline bytes in table data

  private readBlocks(buffer: Buffer, start: number): number {
    let at = start;
    const intBytes = 1 + this.intSize;
    while (at < buffer.length) {
      if (this.chunkLeft > 0) {
        at = this.consumeChunk(buffer, at);
        continue;
      }
      if (this.block.kind === 'none') {
        if (buffer.length - at < 1 + intBytes) return at;
        const type = buffer[at]!;
        const dumpId = readInt(buffer, at + 1, this.intSize);
        at += 1 + intBytes;
        this.tailLength = 0;
        if (type === BLOCK_DATA) this.block = { kind: 'data', entry: this.entries.get(dumpId) };
        else if (type === BLOCK_LARGE_OBJECTS) this.block = { kind: 'objects' };
        else throw new UnreadableArchiveError(`unknown data block type ${type}`);
        this.awaitingOid = true;
        continue;
      }
      if (buffer.length - at < intBytes) return at;
      const value = readInt(buffer, at, this.intSize);
      at += intBytes;
      if (this.block.kind === 'objects' && this.awaitingOid) {
        if (value === 0) this.block = { kind: 'none' };
        else this.awaitingOid = false;
      } else if (value === 0) {
        // The end of a table's data, or of one large object's chunks.
        if (this.block.kind === 'data') {
          this.endTableData(this.block.entry);
          this.block = { kind: 'none' };
        } else this.awaitingOid = true;
      } else if (value < 0) {
        throw new UnreadableArchiveError(`a data chunk claims ${value} bytes`);
      } else {
        this.chunkLeft = value;
      }
    }
    return at;
  }

  private consumeChunk(buffer: Buffer, at: number): number {
    const end = Math.min(buffer.length, at + this.chunkLeft);
    if (this.block.kind === 'data') {
      if (this.block.entry) {
        this.block.entry.rows += countNewlines(buffer, at, end);
        this.block.entry.bytes += end - at;
      }
      this.keepTail(buffer, at, end);
    }
    this.chunkLeft -= end - at;
    return end;
  }

  /** Slides the last few data bytes seen into `tail`. */
  private keepTail(buffer: Buffer, start: number, end: number): void {
    const size = this.tail.length;
    const take = Math.min(size, end - start);
    const keep = Math.min(this.tailLength, size - take);
    this.tail.copyWithin(0, this.tailLength - keep, this.tailLength);
    buffer.copy(this.tail, keep, end - take, end);
    this.tailLength = keep + take;
  }

  private endTableData(entry: DataEntry | undefined): void {
    const ended = this.tailLength === END_OF_COPY.length && this.tail.equals(END_OF_COPY);
    if (!ended)
      throw new UnreadableArchiveError(
        `the data of ${entry ? `${entry.schema}.${entry.name}` : 'a table'} has no end marker`,
      );
    if (entry) {
      entry.rows -= 3;
      entry.bytes -= END_OF_COPY.length;
    }
  }
}

function countNewlines(buffer: Buffer, start: number, end: number): number {
  let count = 0;
  let at = buffer.indexOf(10, start);
  while (at !== -1 && at < end) {
    count += 1;
    at = buffer.indexOf(10, at + 1);
  }
  return count;
}

function readInt(buffer: Buffer, at: number, intSize: number): number {
  let value = 0;
  for (let byte = intSize - 1; byte >= 0; byte--) value = value * 256 + buffer[at + 1 + byte]!;
  return buffer[at] === 0 ? value : -value;
}

/** Sequential reads over the bytes received so far; running out throws NeedMore. */
class Reader {
  at = 0;
  intSize: number;
  offsetSize: number;
  private readonly buffer: Buffer;

  constructor(buffer: Buffer, intSize: number, offsetSize: number) {
    this.buffer = buffer;
    this.intSize = intSize;
    this.offsetSize = offsetSize;
  }

  byte(): number {
    this.need(1);
    return this.buffer[this.at++]!;
  }

  bytes(length: number): Buffer {
    this.need(length);
    const out = this.buffer.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  int(): number {
    this.need(1 + this.intSize);
    const value = readInt(this.buffer, this.at, this.intSize);
    this.at += 1 + this.intSize;
    return value;
  }

  string(): string | null {
    const length = this.int();
    if (length < 0) return null;
    return this.bytes(length).toString('utf8');
  }

  /** A data offset: a flag byte and an offset of the archive's offset size (skipped: we read in order). */
  offset(): void {
    this.byte();
    this.bytes(this.offsetSize);
  }

  private need(length: number): void {
    if (this.at + length > this.buffer.length) throw new NeedMore();
  }
}
