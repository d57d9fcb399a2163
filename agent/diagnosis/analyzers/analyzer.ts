import type { Incident } from "../../incident/incident.js";
import type { Finding } from "../diagnosis.js";

/** An analyzer reads an Incident and reports what it supports; it never throws on odd input. */
export type Analyzer = (incident: Incident) => Finding[];

/**
 * Causes outrank the symptoms they produce: a container that cannot start explains a failed analysis,
 * and a failed analysis explains a progress deadline. Gaps leave room for later categories.
 */
export const RANK = {
  "not-failed-healthy": 200,
  "invalid-spec": 100,
  "image-pull": 95,
  unschedulable: 94,
  "mount-failure": 93,
  "config-missing": 92,
  "oom-killed": 90,
  "dependency-unreachable": 75,
  "probe-failure": 70,
  "crash-loop": 60,
  "analysis-error-rate": 40,
  "analysis-latency": 40,
  "progress-deadline": 20,
  "not-failed-progressing": 5,
  unknown: 0,
} as const;
