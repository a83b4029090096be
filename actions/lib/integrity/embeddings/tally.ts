/** Counts and the first `sample` keys of each kind of difference. */
export class Tally {
  rows = 0;
  points = 0;
  missingCount = 0;
  orphanCount = 0;
  readonly missingPoints: string[] = [];
  readonly orphanPoints: string[] = [];
  private readonly sample: number;

  constructor(sample: number) {
    this.sample = sample;
  }

  /** A row (key text, or null for a NULL key) with no point. */
  missing(key: string | null): void {
    this.missingCount++;
    if (this.missingPoints.length < this.sample) this.missingPoints.push(key ?? 'NULL');
  }

  /** A point with no row, shown by its key (or by its id when its payload has no key). */
  orphan(label: string): void {
    this.orphanCount++;
    if (this.orphanPoints.length < this.sample) this.orphanPoints.push(label);
  }
}
