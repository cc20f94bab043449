// Minimal typings for the parts of cli-progress the CLI uses (the package ships none).
declare module 'cli-progress' {
  interface BarOptions { format?: string; stream?: NodeJS.WriteStream; hideCursor?: boolean }
  class SingleBar {
    constructor (options: BarOptions, preset?: unknown)
    start (total: number, start: number): void
    setTotal (total: number): void
    update (value: number): void
    stop (): void
  }
  const Presets: { shades_classic: unknown }
  const cliProgress: { SingleBar: typeof SingleBar; Presets: typeof Presets }
  export default cliProgress
}
