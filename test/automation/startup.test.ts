import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { diffRenders } from "../../automation/offline/renderDiff";
import { root } from "../harness";

// The CLI starts from its compiled JavaScript (bin/js, built by npm install's prepare script) and falls
// back to ts-node only when that is missing or older than a source. No timing here: `npm run bench` measures.

const kaws = path.join(root, "bin", "kaws");
const fallbackNote = /^kaws: .*; running from the TypeScript sources/m;

function tmpDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs bin/kaws under a preload that records every module the process loaded. */
function runKaws(args: string[], env: Record<string, string> = {}) {
    const dir = tmpDir("kaws-startup-probe-");
    const probe = path.join(dir, "probe.js");
    const loadedFile = path.join(dir, "loaded.json");
    fs.writeFileSync(probe, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(loadedFile)}, JSON.stringify(Object.keys(require.cache))));\n`);
    const result = spawnSync(process.execPath, ["--require", probe, kaws, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, ...env } });
    const loaded: string[] = JSON.parse(fs.readFileSync(loadedFile, "utf8"));
    fs.rmSync(dir, { recursive: true, force: true });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, loaded };
}

describe("start-up: bin/kaws runs the compiled CLI", function () {
    this.timeout(300_000);
    const renders: string[] = [];

    before(() => {
        // After npm ci (CI) bin/js is fresh; in a checkout where a source changed since, build it as npm would.
        if (fallbackNote.test(runKaws(["--help"]).stderr)) {
            const build = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
            expect(build.status, build.stderr).to.equal(0);
        }
    });
    after(() => renders.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

    it("renders dev from bin/js without loading ts-node or any TypeScript source, the same as from the sources", () => {
        const compiledOut = tmpDir("kaws-startup-compiled-");
        const sourceOut = tmpDir("kaws-startup-source-");
        renders.push(compiledOut, sourceOut);

        const compiled = runKaws(["render", "dev", "--out", compiledOut]);
        expect(compiled.status, compiled.stderr).to.equal(0);
        expect(compiled.stderr).to.not.match(fallbackNote);
        expect(compiled.loaded).to.include(path.join(root, "bin", "js", "automation", "cli.js"));
        expect(compiled.loaded).to.include(path.join(root, "bin", "js", "index.js"));
        expect(compiled.loaded.filter((f) => f.endsWith(".ts") || f.includes(`${path.sep}ts-node${path.sep}`))).to.deep.equal([]);

        const source = runKaws(["render", "dev", "--out", sourceOut], { KAWS_FROM_SOURCE: "1" });
        expect(source.status, source.stderr).to.equal(0);
        expect(source.loaded).to.include(path.join(root, "automation", "cli.ts"));
        expect(source.loaded).to.include(path.join(root, "index.ts"));

        const resources = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")) as { resources: unknown[] }).resources.length;
        expect(resources(compiledOut)).to.be.greaterThan(0);
        expect(resources(compiledOut)).to.equal(resources(sourceOut));
        // Keys and certificates are generated anew by every render; diffRenders masks them.
        expect(diffRenders(sourceOut, compiledOut)).to.deep.equal({ files: [], resources: [], warnings: [] });
    });
});

describe("start-up: which code bin/kaws runs", function () {
    this.timeout(60_000);
    let tree: string;
    const source = () => path.join(tree, "automation", "cli.ts");
    const compiled = () => path.join(tree, "bin", "js", "automation", "cli.js");
    const run = (env: Record<string, string> = {}) => {
        const result = spawnSync(process.execPath, [path.join(tree, "bin", "kaws"), "a", "b"], { encoding: "utf8", env: { ...process.env, KAWS_FROM_SOURCE: "", ...env } });
        expect(result.status, result.stderr).to.equal(0);
        return { ran: result.stdout.trim(), stderr: result.stderr };
    };

    // A repository of two stand-in CLIs (the real bin/kaws, node_modules linked): which one runs says which path was chosen.
    beforeEach(() => {
        tree = tmpDir("kaws-startup-tree-");
        fs.mkdirSync(path.join(tree, "bin", "js", "automation"), { recursive: true });
        fs.mkdirSync(path.join(tree, "automation"));
        fs.copyFileSync(kaws, path.join(tree, "bin", "kaws"));
        fs.symlinkSync(path.join(root, "node_modules"), path.join(tree, "node_modules"));
        fs.writeFileSync(path.join(tree, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "commonjs", strict: true } }));
        fs.writeFileSync(source(), "export function main(argv: string[]): void { console.log(`source ${argv.join(\" \")}`); }\n");
        fs.writeFileSync(compiled(), "exports.main = (argv) => console.log(`compiled ${argv.join(\" \")}`);\n");
        fs.utimesSync(source(), new Date(2000, 0, 1), new Date(2000, 0, 1));
    });
    afterEach(() => fs.rmSync(tree, { recursive: true, force: true }));

    it("the compiled CLI, with the arguments, when it is newer than its source; silently", () => {
        expect(run()).to.deep.equal({ ran: "compiled a b", stderr: "" });
    });

    it("the sources, with a one-line note naming the file, once a source changed after the build", () => {
        fs.utimesSync(source(), new Date(), new Date(Date.now() + 60_000));
        const { ran, stderr } = run();
        expect(ran).to.equal("source a b");
        expect(stderr).to.equal("kaws: automation/cli.ts changed since bin/js was built; running from the TypeScript sources (slower start; `npm run build` to refresh)\n");
    });

    it("the sources, with a note, when bin/js holds a file whose source is gone, or is not built", () => {
        const note = "; running from the TypeScript sources (slower start; `npm run build` to refresh)\n";
        fs.writeFileSync(path.join(tree, "bin", "js", "automation", "gone.js"), "");
        expect(run()).to.deep.equal({ ran: "source a b", stderr: `kaws: automation/gone.ts is gone since bin/js was built${note}` });
        fs.rmSync(path.join(tree, "bin", "js"), { recursive: true });
        expect(run()).to.deep.equal({ ran: "source a b", stderr: `kaws: bin/js is not built${note}` });
    });

    it("the sources, without a note, when KAWS_FROM_SOURCE=1 asks for them", () => {
        expect(run({ KAWS_FROM_SOURCE: "1" })).to.deep.equal({ ran: "source a b", stderr: "" });
    });
});

describe("start-up: Pulumi runs the program transpile-only", () => {
    it("Pulumi.yaml points the language host at a tsconfig whose own compilerOptions (as the host reads them) set noCheck", () => {
        const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
        const tsconfig = project.runtime.options.tsconfig;
        expect(tsconfig).to.be.a("string");
        // The SDK's own reader (@pulumi/pulumi/cmd/run/run.js takes transpileOnly from its noCheck).
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { loadTypeScriptCompilerOptions } = require("@pulumi/pulumi/tsutils");
        expect(loadTypeScriptCompilerOptions(path.join(root, tsconfig)).noCheck).to.equal(true);
    });
});
