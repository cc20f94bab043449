/** Node flags every agent process gets. */
export declare const AGENT_NODE_FLAGS: string[]
/** Node flags that run the TypeScript sources. */
export declare const SOURCE_NODE_FLAGS: string[]
/** True when every package's build exists and is newer than all of its sources. */
export declare function buildIsCurrent (root?: string): boolean
/** The entry file and node flags (besides {@link AGENT_NODE_FLAGS}) to run the agent with. */
export declare function agentLaunch (env?: Record<string, string | undefined>): { entry: string, nodeArgs: string[], fromSource: boolean }
