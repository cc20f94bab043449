import type { Notification, Runtime, Timer } from './types.ts'

/** One send requested by the core. */
export interface SentPacket {
  addr: string
  bytes: Uint8Array
}

/** One timer requested by the core. */
export interface ScheduledTimer {
  timer: Timer
  afterMs: number
}

/**
 * A runtime that only records effects, for unit tests and for hosts that drain effects after each
 * call (foca's `AccumulatingRuntime`).
 */
export class AccumulatingRuntime implements Runtime {
  sends: SentPacket[] = []
  timers: ScheduledTimer[] = []
  notifications: Notification[] = []

  /** Records a send. */
  send (addr: string, bytes: Uint8Array): void {
    this.sends.push({ addr, bytes })
  }

  /** Records a timer request. */
  schedule (timer: Timer, afterMs: number): void {
    this.timers.push({ timer, afterMs })
  }

  /** Records a notification. */
  notify (notification: Notification): void {
    this.notifications.push(notification)
  }

  /** Returns and clears the recorded sends. */
  takeSends (): SentPacket[] {
    const s = this.sends
    this.sends = []
    return s
  }

  /** Returns and clears the recorded timers. */
  takeTimers (): ScheduledTimer[] {
    const t = this.timers
    this.timers = []
    return t
  }

  /** Returns and clears the recorded notifications. */
  takeNotifications (): Notification[] {
    const n = this.notifications
    this.notifications = []
    return n
  }

  /** Number of effects recorded and not yet taken. */
  backlog (): number {
    return this.sends.length + this.timers.length + this.notifications.length
  }
}
