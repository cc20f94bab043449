/** @packageDocumentation placeholder until the package lands. */
export const packageName = '@patina/crdt-store'
