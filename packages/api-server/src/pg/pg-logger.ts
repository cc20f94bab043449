/** A pino-compatible logger (any subset of levels); the endpoint logs through it and nothing else. */
export interface PgLogger {
  debug?: (obj: object, msg?: string) => void
  info?: (obj: object, msg?: string) => void
  warn?: (obj: object, msg?: string) => void
  error?: (obj: object, msg?: string) => void
}
