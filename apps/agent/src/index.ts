export const packageName = '@patina/agent'
