import { readFileSync } from "node:fs";
import picomatch from "picomatch";
import { parse } from "yaml";
import { z } from "zod";
import { ConfigError } from "../errors.js";

/**
 * The operator's mapping file (ROLLOUT_MEDIC_REPO_MAPPING_FILE), for Rollouts without annotations:
 *
 * ```yaml
 * repositories:
 *   - namespace: shop          # exact name or glob; omitted: any
 *     name: checkout           # exact name or glob; omitted: any
 *     repo: https://github.com/acme/shop-deploy
 *     baseBranch: main         # omitted: the repository's default branch
 *     paths: ["deploy/checkout/**"]
 * ```
 */
export const RepositoryMappingRule = z
  .object({
    namespace: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    repo: z.string().min(1),
    baseBranch: z.string().min(1).optional(),
    paths: z.array(z.string().min(1)).optional(),
  })
  .strict();
export type RepositoryMappingRule = z.infer<typeof RepositoryMappingRule>;

export const RepositoryMapping = z.object({ repositories: z.array(RepositoryMappingRule) }).strict();
export type RepositoryMapping = z.infer<typeof RepositoryMapping>;

export function parseRepositoryMapping(text: string, source: string): RepositoryMapping {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new ConfigError(`${source} is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const parsed = RepositoryMapping.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `${source}: ${issue?.path.join(".") || "(top level)"} ${issue?.message ?? "is invalid"} (expected repositories: [{namespace, name, repo, baseBranch, paths}])`,
    );
  }
  return parsed.data;
}

export function loadRepositoryMapping(file: string): RepositoryMapping {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      `cannot read the repository mapping file ${file} (${(error as NodeJS.ErrnoException).code ?? "error"}): fix ROLLOUT_MEDIC_REPO_MAPPING_FILE`,
    );
  }
  return parseRepositoryMapping(text, file);
}

function matches(pattern: string | undefined, value: string): boolean {
  if (pattern === undefined) return true;
  return pattern === value || picomatch.isMatch(value, pattern, { dot: true });
}

/**
 * The rule for a Rollout: the most specific match wins (namespace and name, then name, then namespace,
 * then a catch-all), the first in the file among equals. Null when no rule matches.
 */
export function findMappingRule(
  mapping: RepositoryMapping,
  rollout: { namespace: string; name: string },
): { rule: RepositoryMappingRule; index: number } | null {
  let best: { rule: RepositoryMappingRule; index: number; score: number } | null = null;
  mapping.repositories.forEach((rule, index) => {
    if (!matches(rule.namespace, rollout.namespace) || !matches(rule.name, rollout.name)) return;
    const score = (rule.name !== undefined ? 2 : 0) + (rule.namespace !== undefined ? 1 : 0);
    if (!best || score > best.score) best = { rule, index, score };
  });
  const found = best as { rule: RepositoryMappingRule; index: number; score: number } | null;
  return found ? { rule: found.rule, index: found.index } : null;
}
