import type { ScriptedReply } from "../helpers/openai-chat-server.js";
import { outcomeCall } from "../helpers/scripted-model.js";
import type { ScriptedTurn } from "../helpers/scripted-model.js";

export const HANDLER = "internal/handler/handler.go";
export const NIL_LOOKUP = "\tpromo := h.Promos[strings.ToUpper(strings.TrimSpace(code))]\n";
export const NIL_CHECK =
  "\tpromo, ok := h.Promos[strings.ToUpper(strings.TrimSpace(code))]\n\tif !ok || promo == nil {\n\t\treturn total\n\t}\n";

/** The go-panic fixture's investigation and fix, as a model would make it. */
export const GO_PANIC_FIX: ScriptedTurn[] = [
  [{ name: "read_pod_logs", args: { filter: "panic|handler\\.go" } }],
  [{ name: "read_file", args: { path: HANDLER, startLine: 36, endLine: 45 } }],
  [{ name: "edit_file", args: { path: HANDLER, search: NIL_LOOKUP, replace: NIL_CHECK } }],
  [outcomeCall()],
];

/** The go-panic fix, as an OpenAI-compatible server would send it. */
export function goPanicReplies(): ScriptedReply[] {
  return [
    {
      toolCalls: [{ name: "read_file", arguments: { path: HANDLER, startLine: 36, endLine: 45 } }],
      content: "Reading the panicking function.",
    },
    {
      toolCalls: [
        { name: "edit_file", arguments: { path: HANDLER, search: NIL_LOOKUP, replace: NIL_CHECK } },
      ],
    },
    { toolCalls: [{ name: "remediation_outcome", arguments: outcomeCall().args }] },
  ];
}
