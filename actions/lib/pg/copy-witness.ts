import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** PostgreSQL's binary COPY signature: "PGCOPY\n\377\r\n\0". */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Signature, flags (int32) and header extension length (int32). */
const FIXED_HEADER = SIGNATURE.length + 8;

type Step = 'header' | 'extension' | 'field-count' | 'field-length' | 'field-data' | 'trailer';

/**
 * A pass-through for a binary COPY stream (`COPY … TO STDOUT (FORMAT binary)` piped into `COPY … FROM STDIN (FORMAT
 * binary)`) that counts the tuples as they go by and hashes the bytes, without copying or parsing any value: it
 * walks the tuple headers and field lengths only. It is the middle witness between the source's "COPY n" and the
 * target's: the rows that left one server are the rows that crossed the pipe are the rows the other one stored.
 * A stream that does not follow the format (or ends before its trailer) fails the pipe with the byte offset.
 */
export class CopyWitness extends Transform {
  /** Tuples seen so far; final once the stream has ended. */
  tuples = 0;
  bytes = 0;
  private readonly hash = createHash('sha256');
  private step: Step = 'header';
  /** Bytes still to skip (extension, field data) or still needed for the header being read. */
  private remaining = FIXED_HEADER;
  private fieldsLeft = 0;
  /** A header (up to 15 bytes) split across chunks. */
  private carry = Buffer.alloc(0);

  /** sha256 of every byte that passed, hex; call after the stream ended. */
  digest(): string {
    return this.hash.digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.walk(chunk);
    } catch (error) {
      done(error as Error);
      return;
    }
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.step !== 'trailer') {
      done(new Error(`The binary COPY stream ended after ${this.bytes} bytes, before its trailer: it was cut off.`));
      return;
    }
    done();
  }

  private walk(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.step === 'extension' || this.step === 'field-data') {
        const skipped = Math.min(this.remaining, chunk.length - at);
        at += skipped;
        this.remaining -= skipped;
        if (this.remaining === 0) this.step = this.nextField();
        continue;
      }
      if (this.step === 'trailer') throw this.malformed(at, 'bytes after the trailer');
      // A fixed-size header: read it whole, from the carry when it straddles chunks.
      const need = this.remaining;
      let header: Buffer;
      if (this.carry.length === 0 && chunk.length - at >= need) {
        header = chunk.subarray(at, at + need);
        at += need;
      } else {
        const take = Math.min(need - this.carry.length, chunk.length - at);
        this.carry = Buffer.concat([this.carry, chunk.subarray(at, at + take)]);
        at += take;
        if (this.carry.length < need) continue;
        header = this.carry;
        this.carry = Buffer.alloc(0);
      }
      this.readHeader(header, this.bytes + at - need);
    }
  }

  /** One complete header of the current step. */
  private readHeader(header: Buffer, offset: number): void {
    switch (this.step) {
      case 'header': {
        if (!header.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw this.malformed(offset, 'no signature');
        this.remaining = header.readInt32BE(SIGNATURE.length + 4);
        if (this.remaining < 0) throw this.malformed(offset, `header extension length ${this.remaining}`);
        this.step = this.remaining > 0 ? 'extension' : 'field-count';
        if (this.remaining === 0) this.remaining = 2;
        return;
      }
      case 'field-count': {
        const fields = header.readInt16BE(0);
        if (fields === -1) {
          this.step = 'trailer';
          return;
        }
        if (fields < 0) throw this.malformed(offset, `field count ${fields}`);
        this.tuples += 1;
        this.fieldsLeft = fields;
        this.step = this.nextField();
        return;
      }
      case 'field-length': {
        const length = header.readInt32BE(0);
        if (length < -1) throw this.malformed(offset, `field length ${length}`);
        this.fieldsLeft -= 1;
        if (length > 0) {
          this.step = 'field-data';
          this.remaining = length;
        } else {
          // NULL (-1) or empty: no data follows.
          this.step = this.nextField();
        }
        return;
      }
      default:
        throw this.malformed(offset, `unexpected step ${this.step}`);
    }
  }

  /** After a tuple header or a field: the next field's length, or the next tuple's field count. */
  private nextField(): Step {
    this.remaining = this.fieldsLeft > 0 ? 4 : 2;
    return this.fieldsLeft > 0 ? 'field-length' : 'field-count';
  }

  private malformed(offset: number, what: string): Error {
    return new Error(`The binary COPY stream is not in PostgreSQL's format at byte ${offset}: ${what}.`);
  }
}
