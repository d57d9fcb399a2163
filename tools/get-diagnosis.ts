import { z } from "zod";
import type { ToolContext } from "./tool-context.js";
import { defineTool } from "./tool-result.js";

export const GetDiagnosisInput = z.object({});

/** get_diagnosis: the deterministic analyzers' verdict, with every finding and its evidence. */
export function createGetDiagnosisTool(context: ToolContext) {
  return defineTool(context, {
    name: "get_diagnosis",
    description:
      "The deterministic diagnosis computed before you started: failure category, summary, confidence, and each analyzer finding with its evidence (pod, log line, analysis metric).",
    schema: GetDiagnosisInput,
    maxTokens: 1500,
    run: async () => {
      const { diagnosis } = context;
      const lines = [
        `category: ${diagnosis.category} (confidence ${diagnosis.confidence.toFixed(2)})`,
        `summary: ${diagnosis.summary}`,
        "findings:",
        ...diagnosis.findings.flatMap((f) => [
          `  ${f.category} by ${f.analyzer} (confidence ${f.confidence.toFixed(2)}, rank ${f.rank}): ${f.summary}`,
          ...f.evidence.slice(0, 6).map((e) => `    ${e.source}: ${e.detail}`),
          ...(f.facts ? [`    facts: ${JSON.stringify(f.facts)}`] : []),
        ]),
      ];
      return {
        text: `Deterministic diagnosis: ${diagnosis.category}.`,
        data: [{ source: "diagnosis (summaries quote cluster data)", text: lines.join("\n") }],
      };
    },
  });
}
