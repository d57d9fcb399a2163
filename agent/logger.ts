import pino from "pino";

export type Logger = pino.Logger;

/**
 * Structured logs go to stderr so that stdout carries only the command's answer.
 * Synchronous writes keep the order of log lines and answer stable when both go to a terminal.
 */
export function createLogger(level: string = "info", bindings: Record<string, unknown> = {}): Logger {
  return pino(
    { level, base: { ...bindings }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that writes nothing, for tests and library callers that do not care. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
