/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long. Default 10000 ms. */
  timeoutMs?: number
  /** Poll period. Default 10 ms. */
  intervalMs?: number
  /** Included in the timeout error. */
  message?: string
  signal?: AbortSignal
}

/**
 * Poll `predicate` until it returns true, or throw when the deadline passes. Tests use it
 * instead of sleeping for a fixed time.
 */
export async function waitFor (predicate: () => boolean | Promise<boolean>, options: WaitForOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const intervalMs = options.intervalMs ?? 10
  const deadline = performance.now() + timeoutMs
  while (true) {
    options.signal?.throwIfAborted()
    if (await predicate()) return
    if (performance.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms${options.message != null ? `: ${options.message}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
