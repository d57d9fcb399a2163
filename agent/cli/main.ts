#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { loadConfig } from "../config.js";
import type { Config } from "../config.js";
import { EXIT, exitCodeFor, oneLineMessage } from "../errors.js";
import { createLogger } from "../logger.js";
import { packageInfo } from "../package-root.js";
import type { LiveOptions } from "./live-options.js";
import { addModelOptions } from "./model-option.js";
import type { ModelOptions } from "./model-option.js";

/**
 * The composition root: parses the command line, reads configuration once, and loads each command's
 * module only when that command runs, so an offline dry run never pays for the Kubernetes client or LangChain.
 */
function buildProgram(run: (task: (config: Config) => Promise<number>) => Promise<void>): Command {
  const program = new Command()
    .name("rollout-medic")
    .description("Diagnose a failed Argo Rollouts canary, fix the repository and open one pull request.")
    .version(packageInfo().version)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });

  addModelOptions(
    program
      .command("dry-run")
      .description(
        "Replay a recorded scenario folder offline: diagnosis, proposed fix and the PR or issue it would open.",
      )
      .argument("<scenario>", "scenario folder (see docs/scenario-format.md)")
      .option("--json", "print the dry-run JSON contract instead of the report")
      .option("--out <dir>", "also write fix.patch, pull-request.md (or issue.md) and incident.json to DIR"),
  ).action(async (scenario: string, options: { json?: boolean; out?: string } & ModelOptions) =>
    run(async (config) => {
      const { dryRunCommand } = await import("./dry-run-command.js");
      return dryRunCommand({ scenario, ...options }, config);
    }),
  );

  const live = (command: Command) =>
    command
      .requiredOption("-n, --namespace <namespace>", "namespace of the Rollout")
      .requiredOption("-r, --rollout <name>", "name of the Rollout")
      .option(
        "--kubeconfig <file>",
        "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)",
      )
      .option("--context <name>", "kubeconfig context");

  live(program.command("diagnose"))
    .description("Diagnose a Rollout in a live cluster (read-only).")
    .option("--json", "print JSON instead of the report")
    .action(async (options: LiveOptions & { json?: boolean }) =>
      run(async (config) => {
        const { diagnoseCommand } = await import("./diagnose-command.js");
        return diagnoseCommand(options, config);
      }),
    );

  live(program.command("snapshot"))
    .description(
      "Record a Rollout's failure from a live cluster as a scenario folder (redacted) for offline replay.",
    )
    .requiredOption("-o, --out <dir>", "folder to write the scenario to (must not exist or be empty)")
    .action(async (options: LiveOptions & { out: string }) =>
      run(async (config) => {
        const { snapshotCommand } = await import("./snapshot-command.js");
        return snapshotCommand(options, config);
      }),
    );

  addModelOptions(
    live(program.command("run"))
      .description(
        "Remediate a failed Rollout end to end: diagnose, fix, verify, then open or update one pull request (or issue).",
      )
      .option(
        "--dry-run",
        "do everything but write to the forge: print DRY-RUN lines instead of pushing or opening",
      )
      .option("--json", "print the run summary as JSON")
      .option(
        "--revision <n>",
        "the revision the failure was reported for; nothing to do if the Rollout moved on",
      )
      .option("--full-clone", "clone the whole history instead of a partial, shallow clone"),
  ).action(
    async (
      options: LiveOptions &
        ModelOptions & { dryRun?: boolean; json?: boolean; revision?: string; fullClone?: boolean },
    ) =>
      run(async (config) => {
        const { runCommand } = await import("./run-command.js");
        return runCommand(options, config);
      }),
  );

  program
    .command("serve")
    .description(
      "Receive Argo Rollouts notifications and create one remediation Job per failed canary (see docs/production.md).",
    )
    .option("--host <address>", "address to listen on (default: $ROLLOUT_MEDIC_SERVE_HOST or 0.0.0.0)")
    .option("--port <port>", "port to listen on (default: $ROLLOUT_MEDIC_SERVE_PORT or 8080)")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)")
    .option("--context <name>", "kubeconfig context")
    .action(async (options: { host?: string; port?: string; kubeconfig?: string; context?: string }) =>
      run(async (config) => {
        const { serveCommand } = await import("./serve-command.js");
        return serveCommand(options, config);
      }),
    );

  return program;
}

async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const run = async (task: (config: Config) => Promise<number>) => {
    exitCode = await task(loadConfig());
  };
  try {
    await buildProgram(run).parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.ok;
      process.stderr.write(`rollout-medic: ${oneLineMessage(error.message.replace(/^error: /, ""))}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`rollout-medic: ${oneLineMessage(error)}\n`);
    const code = exitCodeFor(error);
    // An unexpected error is a bug: keep its stack for the report, after the one-line message.
    if (code === EXIT.internal) createLogger("error").error({ err: error }, "unexpected error");
    return code;
  }
}

process.exitCode = await main(process.argv);
