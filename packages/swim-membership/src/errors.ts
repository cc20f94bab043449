/**
 * Errors of the package, one class per error, matched by `err.name` (never `instanceof`, so two
 * copies of the package still agree). Each says whether state was affected.
 */

/** A packet could not be decoded (truncated, oversized field, unknown tag, trailing bytes). The core's state is untouched. */
export class MalformedPacketError extends Error {
  static name = 'MalformedPacketError'
  constructor (message = 'Malformed packet', options?: ErrorOptions) {
    super(message, options)
    this.name = 'MalformedPacketError'
  }
}

/** A packet carries a wire version this code does not speak. The core's state is untouched. */
export class UnsupportedVersionError extends Error {
  static name = 'UnsupportedVersionError'
  constructor (message = 'Unsupported packet version', options?: ErrorOptions) {
    super(message, options)
    this.name = 'UnsupportedVersionError'
  }
}

/** A packet belongs to another cluster (cluster id mismatch). The core's state is untouched. */
export class ClusterMismatchError extends Error {
  static name = 'ClusterMismatchError'
  constructor (message = 'Packet from another cluster', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ClusterMismatchError'
  }
}

/** A user broadcast or metadata does not fit in one packet / the configured limit. Nothing was queued. */
export class PayloadTooLargeError extends Error {
  static name = 'PayloadTooLargeError'
  constructor (message = 'Payload too large', options?: ErrorOptions) {
    super(message, options)
    this.name = 'PayloadTooLargeError'
  }
}

/** An identity (id, address or metadata) is empty or too long. Nothing was created or changed. */
export class InvalidIdentityError extends Error {
  static name = 'InvalidIdentityError'
  constructor (message = 'Invalid identity', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidIdentityError'
  }
}

/** A configuration value is out of range or of the wrong type. Nothing was created. */
export class InvalidConfigError extends Error {
  static name = 'InvalidConfigError'
  constructor (message = 'Invalid configuration', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidConfigError'
  }
}

/** A driver method needs `start()` first (or was called after `stop()`). */
export class NotStartedError extends Error {
  static name = 'NotStartedError'
  constructor (message = 'Swim node is not started', options?: ErrorOptions) {
    super(message, options)
    this.name = 'NotStartedError'
  }
}

/** The operation was aborted through its `AbortSignal`. */
export class AbortError extends Error {
  static name = 'AbortError'
  constructor (message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, options)
    this.name = 'AbortError'
  }
}
