/** Errors the agent raises; match them by `err.name`. */

/** The configuration is invalid; `key` names the offending key (dotted path). */
export class ConfigError extends Error {
  static name = 'ConfigError'
  /** The dotted config key at fault, e.g. `gossip.addr`. */
  readonly key: string
  constructor (key: string, message = 'invalid configuration', options?: ErrorOptions) {
    super(key === '' ? message : `${key}: ${message}`, options)
    this.name = 'ConfigError'
    this.key = key
  }
}

/** The admin socket could not be reached (node not running, or wrong path). */
export class AdminUnavailableError extends Error {
  static name = 'AdminUnavailableError'
  constructor (message = 'admin socket unavailable', options?: ErrorOptions) {
    super(message, options)
    this.name = 'AdminUnavailableError'
  }
}

/** The node answered an admin command with an error. */
export class AdminCommandError extends Error {
  static name = 'AdminCommandError'
  constructor (message = 'admin command failed', options?: ErrorOptions) {
    super(message, options)
    this.name = 'AdminCommandError'
  }
}

/** A malformed admin frame (bad length, bad JSON, unknown command). */
export class AdminProtocolError extends Error {
  static name = 'AdminProtocolError'
  constructor (message = 'malformed admin frame', options?: ErrorOptions) {
    super(message, options)
    this.name = 'AdminProtocolError'
  }
}

/** `restore` was asked while the node is running. */
export class NodeRunningError extends Error {
  static name = 'NodeRunningError'
  constructor (message = 'the node is running; stop it before restoring', options?: ErrorOptions) {
    super(message, options)
    this.name = 'NodeRunningError'
  }
}

/** SQLite reported a fatal condition (disk full, corrupt file, I/O error); the node stops. */
export class FatalStorageError extends Error {
  static name = 'FatalStorageError'
  constructor (message = 'fatal storage error', options?: ErrorOptions) {
    super(message, options)
    this.name = 'FatalStorageError'
  }
}

/** An HTTP call from the CLI to the node's API failed. */
export class ApiRequestError extends Error {
  static name = 'ApiRequestError'
  /** HTTP status, when a response was received. */
  readonly status: number | undefined
  constructor (message = 'API request failed', status?: number, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ApiRequestError'
    this.status = status
  }
}

/** A template could not be parsed or rendered. */
export class TemplateError extends Error {
  static name = 'TemplateError'
  constructor (message = 'template error', options?: ErrorOptions) {
    super(message, options)
    this.name = 'TemplateError'
  }
}

/** A listener (gossip, API, PG, metrics) could not bind its address. */
export class ListenError extends Error {
  static name = 'ListenError'
  constructor (message = 'cannot listen', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ListenError'
  }
}
