/** Options of `addEventListener` (the DOM type is not in the Node lib). */
export interface ListenerOptions {
  capture?: boolean
  once?: boolean
  passive?: boolean
  signal?: AbortSignal
}

/** A listener for one event type. */
export type TypedListener<E> = ((event: E) => void) | { handleEvent: (event: E) => void }

/** An `EventTarget` whose event names and payload types are checked (libp2p's TypedEventTarget shape). */
export interface TypedEventTarget<EventMap extends Record<string, Event>> {
  addEventListener: <K extends keyof EventMap & string>(type: K, listener: TypedListener<EventMap[K]> | null, options?: boolean | ListenerOptions) => void
  removeEventListener: <K extends keyof EventMap & string>(type: K, listener: TypedListener<EventMap[K]> | null, options?: boolean | { capture?: boolean }) => void
  dispatchEvent: (event: Event) => boolean
}

/** Creates a plain EventTarget typed with an event map. */
export function typedEventTarget<EventMap extends Record<string, Event>> (): TypedEventTarget<EventMap> & EventTarget {
  return new EventTarget() as TypedEventTarget<EventMap> & EventTarget
}
