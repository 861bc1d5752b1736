// Runs index.ts's program through the Node.js Automation API in inline mode:
//   node automation.js WORK_DIR up|preview|preview-refresh|refresh|destroy [CONFIG_JSON]
// CONFIG_JSON: {"config": {...}, "secrets": {...}}. Prints one JSON line: the change summary,
// the outputs and the engine's text output.
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { program } from "./index";

async function main(): Promise<void> {
    const [workDir, command, configJson] = process.argv.slice(2);
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: "dev", projectName: "dockerfeed-typescript", program },
        { workDir, projectSettings: { name: "dockerfeed-typescript", runtime: "nodejs" } },
    );
    const settings = configJson ? JSON.parse(configJson) : {};
    for (const [key, value] of Object.entries(settings.config ?? {})) {
        await stack.setConfig(key, { value: String(value) });
    }
    for (const [key, value] of Object.entries(settings.secrets ?? {})) {
        await stack.setConfig(key, { value: String(value), secret: true });
    }
    let stdout = "";
    const onOutput = (text: string) => { stdout += text; };
    let summary: Record<string, number> | undefined;
    let outputs: Record<string, unknown> = {};
    switch (command) {
        case "up": {
            const result = await stack.up({ onOutput });
            summary = result.summary.resourceChanges;
            outputs = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
            break;
        }
        case "preview":
        case "preview-refresh": {
            const result = await stack.preview({ onOutput, refresh: command === "preview-refresh", diff: true });
            summary = result.changeSummary;
            break;
        }
        case "refresh": {
            const result = await stack.refresh({ onOutput });
            summary = result.summary.resourceChanges;
            break;
        }
        case "destroy": {
            const result = await stack.destroy({ onOutput });
            summary = result.summary.resourceChanges;
            break;
        }
        default:
            throw new Error(`unknown command ${command}`);
    }
    process.stdout.write(JSON.stringify({ summary, outputs, stdout }) + "\n");
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
