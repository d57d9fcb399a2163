import { describe, expect, it } from "vitest";
import { findInvalidSpec } from "../../agent/diagnosis/analyzers/find-invalid-spec.js";
import { findNotFailed } from "../../agent/diagnosis/analyzers/find-not-failed.js";
import { findProgressDeadline } from "../../agent/diagnosis/analyzers/find-progress-deadline.js";
import { findUnknown } from "../../agent/diagnosis/analyzers/find-unknown.js";
import { rolloutState } from "../../agent/diagnosis/analyzers/rollout-state.js";
import { CANARY_HASH, incident } from "./incident-builder.js";

const healthy = {
  phase: "Healthy",
  aborted: false,
  message: undefined,
  conditions: [],
  stablePodHash: CANARY_HASH,
};
const progressing = {
  phase: "Progressing",
  aborted: false,
  message: "more replicas need to be updated",
  conditions: [],
};

describe("rollout state analyzers", () => {
  it("reads InvalidSpec", () => {
    const [finding] = findInvalidSpec(
      incident({
        rollout: {
          conditions: [
            {
              type: "InvalidSpec",
              status: "True",
              reason: "InvalidSpec",
              message:
                'The Rollout "checkout" is invalid: spec.strategy.canary.steps[1].setWeight: Invalid value: 120',
            },
          ],
        },
      }),
    );
    expect(finding?.category).toBe("invalid-spec");
    expect(finding?.confidence).toBeGreaterThan(0.9);
  });

  it("reads ProgressDeadlineExceeded", () => {
    const [finding] = findProgressDeadline(
      incident({
        rollout: {
          conditions: [
            {
              type: "Progressing",
              status: "False",
              reason: "ProgressDeadlineExceeded",
              message: 'ReplicaSet "checkout-6c9f" has timed out progressing.',
            },
          ],
        },
      }),
    );
    expect(finding?.category).toBe("progress-deadline");
  });

  it("tells healthy, progressing and failed apart", () => {
    expect(rolloutState(incident({ rollout: healthy }))).toBe("healthy");
    expect(rolloutState(incident({ rollout: progressing }))).toBe("progressing");
    expect(rolloutState(incident())).toBe("failed");
    expect(rolloutState(incident({ rollout: { ...progressing, aborted: true } }))).toBe("failed");
  });

  it("reports not-failed for healthy and progressing rollouts only", () => {
    expect(findNotFailed(incident({ rollout: healthy }))[0]?.confidence).toBeGreaterThan(0.9);
    expect(findNotFailed(incident({ rollout: progressing }))[0]?.category).toBe("not-failed");
    expect(findNotFailed(incident())).toEqual([]);
  });

  it("offers unknown as a low-confidence fallback for failed rollouts", () => {
    expect(findUnknown(incident())[0]?.confidence).toBeLessThan(0.5);
    expect(findUnknown(incident({ rollout: healthy }))).toEqual([]);
  });
});
