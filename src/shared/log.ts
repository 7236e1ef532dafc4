/**
 * The little the library needs from a logger. Powertools' Logger fits it in Lambda; the CLI
 * passes one that writes to standard error. Never pass secrets in `extra`.
 */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export const silentLog: Log = {
  info() {},
  warn() {},
};
