import { inspect } from "node:util";

/**
 * A secret value (token, SK, password) that does not leak by accident: it prints, logs and
 * serialises as "[redacted]". Code that needs the value calls `reveal()` at the last moment.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
  [inspect.custom](): string {
    return "[redacted]";
  }
}
