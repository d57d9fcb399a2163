import { spawn } from "node:child_process";
import { once } from "node:events";
import { execFileSync } from "node:child_process";

/**
 * Creates a bare repository with `commits` commits through `git fast-import`, each changing one of
 * `files` files with a few KB of content that does not delta well, as a long-lived service repo's history does.
 */
export async function generateHistoryRepo(dir: string, commits: number, files = 300): Promise<void> {
  execFileSync("git", ["init", "--bare", "-q", "-b", "main", dir]);
  execFileSync("git", ["-C", dir, "config", "uploadpack.allowFilter", "true"]);
  const importer = spawn("git", ["-C", dir, "fast-import", "--quiet"], {
    stdio: ["pipe", "inherit", "inherit"],
  });
  let seed = 7;
  const word = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed.toString(36);
  };
  const write = async (text: string) => {
    if (!importer.stdin.write(text)) await once(importer.stdin, "drain");
  };
  for (let i = 1; i <= commits; i++) {
    const words: string[] = [];
    for (let w = 0; w < 500; w++) words.push(word());
    const content = `// revision ${i}\n${words.join(" ")}\n`;
    const message = `change ${i}\n`;
    const when = 1_700_000_000 + i * 60;
    await write(
      `commit refs/heads/main\ncommitter Bench <bench@example.invalid> ${when} +0000\ndata ${Buffer.byteLength(message)}\n${message}` +
        (i > 1 ? "" : "") +
        `M 100644 inline src/module-${i % files}.ts\ndata ${Buffer.byteLength(content)}\n${content}\n`,
    );
  }
  importer.stdin.end();
  const [code] = (await once(importer, "close")) as [number];
  if (code !== 0) throw new Error(`git fast-import exited ${code}`);
  // One pack, as a served repository has; --aggressive would only lengthen the benchmark.
  execFileSync("git", ["-C", dir, "repack", "-a", "-d", "-q"], { stdio: "ignore" });
}
