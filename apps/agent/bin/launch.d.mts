/** Node flags every agent process gets. */
export declare const AGENT_NODE_FLAGS: string[]
/** Environment every agent process gets (two malloc arenas). */
export declare const AGENT_ENV: Record<string, string>
/** Node flags that run the TypeScript sources. */
export declare const SOURCE_NODE_FLAGS: string[]
/** True when every package's build exists and is newer than its sources, package.json and compiler settings. */
export declare function buildIsCurrent (root?: string): boolean
/** The entry file and node flags (besides {@link AGENT_NODE_FLAGS}) to run the agent with. */
export declare function agentLaunch (env?: Record<string, string | undefined>): { entry: string, nodeArgs: string[], fromSource: boolean }
/** Runs the agent CLI with `args` on `node` in the foreground, passing signals on and exiting with its code. */
export declare function runAgent (node: string, args: string[]): void
