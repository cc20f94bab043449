// One class per error, matched by `err.name` (survives duplicate package copies).

/** A peer announced a frame larger than `maxFrameBytes`; the stream is aborted. */
export class FrameTooLargeError extends Error {
  static name = 'FrameTooLargeError'
  constructor (message = 'frame exceeds the size limit', options?: ErrorOptions) {
    super(message, options)
    this.name = 'FrameTooLargeError'
  }
}

/** A frame's bytes are not a valid message (bad msgpack, wrong field types). */
export class MalformedFrameError extends Error {
  static name = 'MalformedFrameError'
  constructor (message = 'frame could not be decoded', options?: ErrorOptions) {
    super(message, options)
    this.name = 'MalformedFrameError'
  }
}

/** A frame carries a tag this version does not know, or one not allowed on this protocol. */
export class UnknownTagError extends Error {
  static name = 'UnknownTagError'
  constructor (message = 'frame has an unknown tag', options?: ErrorOptions) {
    super(message, options)
    this.name = 'UnknownTagError'
  }
}

/** The admission handshake failed (bad proof, wrong order, wrong version). */
export class HandshakeError extends Error {
  static name = 'HandshakeError'
  constructor (message = 'admission handshake failed', options?: ErrorOptions) {
    super(message, options)
    this.name = 'HandshakeError'
  }
}

/** The remote peer is not admitted (cluster id, secret or allow-list). */
export class AdmissionError extends Error {
  static name = 'AdmissionError'
  constructor (message = 'peer is not admitted', options?: ErrorOptions) {
    super(message, options)
    this.name = 'AdmissionError'
  }
}

/** A stream was idle or open longer than its limit (slow-loris protection). */
export class StreamTimeoutError extends Error {
  static name = 'StreamTimeoutError'
  constructor (message = 'stream exceeded its time limit', options?: ErrorOptions) {
    super(message, options)
    this.name = 'StreamTimeoutError'
  }
}

/** The remote refused a sync session (busy, or no sync port attached). */
export class SyncRejectedError extends Error {
  static name = 'SyncRejectedError'
  constructor (message = 'sync session was rejected by the peer', options?: ErrorOptions) {
    super(message, options)
    this.name = 'SyncRejectedError'
  }
}

/** An address is neither a multiaddr nor `host:port`. */
export class InvalidAddressError extends Error {
  static name = 'InvalidAddressError'
  constructor (message = 'address is not a valid multiaddr or host:port', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidAddressError'
  }
}

/** A payload passed to `broadcast()` exceeds `broadcast.maxPayloadBytes`. */
export class PayloadTooLargeError extends Error {
  static name = 'PayloadTooLargeError'
  constructor (message = 'payload exceeds the size limit', options?: ErrorOptions) {
    super(message, options)
    this.name = 'PayloadTooLargeError'
  }
}

/** An operation needs a started node. */
export class NotStartedError extends Error {
  static name = 'NotStartedError'
  constructor (message = 'gossip node is not started', options?: ErrorOptions) {
    super(message, options)
    this.name = 'NotStartedError'
  }
}

/** The identity key file could not be read, parsed or written. */
export class IdentityError extends Error {
  static name = 'IdentityError'
  constructor (message = 'identity key file could not be read or written', options?: ErrorOptions) {
    super(message, options)
    this.name = 'IdentityError'
  }
}

/** An option of `createGossipNode` is out of range or of the wrong type; the message names it. */
export class InvalidConfigError extends Error {
  static name = 'InvalidConfigError'
  constructor (message = 'invalid gossip configuration', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidConfigError'
  }
}
