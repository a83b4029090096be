/**
 * Where a parsed value came from, carried by the value itself (a DatabaseUrl, age keys, a table name…), so an error
 * about it can name its source without the capability code knowing what the input is called.
 */
export class Origin {
  /** The input's name, when the value came from one. */
  readonly input: string | undefined;
  private readonly label: string;

  private constructor(label: string, input?: string) {
    this.label = label;
    this.input = input;
  }

  /** A value an input gave. */
  static input(name: string): Origin {
    return new Origin(`input "${name}"`, name);
  }

  /** A value Backstop made itself, e.g. "the throwaway cluster". */
  static internal(what: string): Origin {
    return new Origin(what);
  }

  /** `input "target-url"`, for the middle of a sentence. */
  toString(): string {
    return this.label;
  }

  /** `Input "target-url"`, to start a sentence. */
  get title(): string {
    return this.label.charAt(0).toUpperCase() + this.label.slice(1);
  }
}
