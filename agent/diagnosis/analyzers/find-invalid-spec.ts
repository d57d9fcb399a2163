import type { Incident } from "../../incident/incident.js";
import type { Finding } from "../diagnosis.js";
import { RANK } from "./analyzer.js";
import { evidence } from "./evidence.js";
import { invalidSpec } from "./rollout-state.js";

/** The Rollout spec itself is invalid: the controller says so in an InvalidSpec condition. */
export function findInvalidSpec(incident: Incident): Finding[] {
  const invalid = invalidSpec(incident);
  if (!invalid) return [];
  const message = invalid.message ?? incident.rollout.message ?? "";
  const facts: Record<string, string | number | boolean> = {};
  if (invalid.reason) facts["reason"] = invalid.reason;
  if (message) facts["message"] = message.slice(0, 300);
  return [
    {
      category: "invalid-spec",
      analyzer: "findInvalidSpec",
      summary: `Rollout ${incident.rollout.name} has an invalid spec${message ? `: ${message.slice(0, 160)}` : ""}`,
      evidence: [
        evidence(`rollout/${incident.rollout.name}`, `InvalidSpec ${invalid.reason ?? ""}: ${message}`),
      ],
      confidence: 0.95,
      rank: RANK["invalid-spec"],
      facts,
    },
  ];
}
