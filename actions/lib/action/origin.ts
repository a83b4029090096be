/**
 * Where a parsed value came from, carried by the value itself (a DatabaseUrl, a Store list, age keys…), so an error
 * about it can name the input without the capability code knowing what the input is called.
 */
export class Origin {
  readonly input: string;

  constructor(input: string) {
    this.input = input;
  }

  /** `input "target-url"`, for the middle of a sentence. */
  toString(): string {
    return `input "${this.input}"`;
  }

  /** `Input "target-url"`, to start a sentence. */
  get title(): string {
    return `Input "${this.input}"`;
  }
}

export function inputOrigin(input: string): Origin {
  return new Origin(input);
}
