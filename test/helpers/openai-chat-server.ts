import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One scripted answer of the fake endpoint to one chat-completions request. */
export type ScriptedReply =
  | {
      toolCalls: { name: string; arguments: string | Record<string, unknown>; id?: string }[];
      content?: string;
      usage?: { prompt: number; completion: number };
    }
  | { content: string; usage?: { prompt: number; completion: number } }
  | { status: number; error?: string; headers?: Record<string, string> }
  | { delayMs: number; then: ScriptedReply };

export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: {
    model?: string;
    messages?: { role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string }[];
    tools?: { type: string; function: { name: string } }[];
    tool_choice?: unknown;
    [key: string]: unknown;
  };
}

export interface OpenAiChatServer {
  /** Base URL with `/v1`, for OPENAI_BASE_URL or `configuration.baseURL`. */
  url: string;
  requests: RecordedRequest[];
  /** Every completion id sent, in order: each one is unique, as a real server's are. */
  completionIds: string[];
  close(): Promise<void>;
}

type Script = ScriptedReply[] | ((request: RecordedRequest, index: number) => ScriptedReply);

/**
 * A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions protocol with scripted
 * answers, so that tests exercise ChatOpenAI's own request building, response parsing, retries and
 * timeouts. Only POST /v1/chat/completions is served; a script that runs out answers 500.
 */
export async function startOpenAiChatServer(script: Script): Promise<OpenAiChatServer> {
  const requests: RecordedRequest[] = [];
  const completionIds: string[] = [];
  const run = randomBytes(4).toString("hex");
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: String(error) } }));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    const request: RecordedRequest = {
      path: req.url,
      headers: req.headers,
      body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as RecordedRequest["body"],
    };
    const index = requests.length;
    requests.push(request);
    const reply = typeof script === "function" ? script(request, index) : script[index];
    await answer(res, request, reply ?? { status: 500, error: `script exhausted after ${index} replies` });
  }

  async function answer(res: ServerResponse, request: RecordedRequest, reply: ScriptedReply): Promise<void> {
    if ("delayMs" in reply) {
      await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (res.destroyed || res.socket?.destroyed) return;
      return answer(res, request, reply.then);
    }
    if ("status" in reply) {
      res.writeHead(reply.status, { "content-type": "application/json", ...(reply.headers ?? {}) });
      res.end(
        JSON.stringify({
          error: { message: reply.error ?? `scripted HTTP ${reply.status}`, type: "scripted" },
        }),
      );
      return;
    }
    const id = `chatcmpl-${run}-${completionIds.length + 1}-${randomBytes(3).toString("hex")}`;
    completionIds.push(id);
    const toolCalls =
      "toolCalls" in reply
        ? reply.toolCalls.map((call, i) => ({
            id: call.id ?? `call_${run}_${completionIds.length}_${i}`,
            type: "function",
            function: {
              name: call.name,
              arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
            },
          }))
        : undefined;
    const prompt = reply.usage?.prompt ?? Math.ceil(JSON.stringify(request.body.messages ?? []).length / 4);
    const completion = reply.usage?.completion ?? 20;
    const body = {
      id,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: request.body.model ?? "scripted",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "content" in reply && reply.content !== undefined ? reply.content : null,
            ...(toolCalls ? { tool_calls: toolCalls } : {}),
          },
          finish_reason: toolCalls ? "tool_calls" : "stop",
        },
      ],
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    completionIds,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
