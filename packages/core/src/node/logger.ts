/** How the Node.js apps (exporter, node agent) log: one line per event, a level and a message. */
export type LogLevel = 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string) => void;
