import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exitCodes, runCli } from "../../../automation/cli";
import { renderMarker } from "../../../automation/offline/renderTarget";
import { root, snapshotFiles } from "../../harness";

// `kaws render --out` never deletes what kaws did not write: every refusal is one line, exit 2, and leaves
// everything as it was; a previous render is replaced only through a staged folder swapped in.

async function render(out: string | undefined, cwd: string) {
    let stdout = "";
    let stderr = "";
    const started = Date.now();
    const code = await runCli(["render", "dev", ...(out === undefined ? [] : ["--out", out])], { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } }, root, undefined, cwd);
    return { code, stdout, stderr, ms: Date.now() - started };
}

describe("kaws render --out safety", function () {
    this.timeout(60_000);
    let sandbox: string;
    beforeEach(() => {
        sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-out-"));
        fs.writeFileSync(path.join(sandbox, "keep.txt"), "user file");
        fs.mkdirSync(path.join(sandbox, "project"));
        fs.writeFileSync(path.join(sandbox, "project", "notes.md"), "not kaws's");
        fs.writeFileSync(path.join(sandbox, "a-file"), "data");
        fs.symlinkSync(path.join(sandbox, "project"), path.join(sandbox, "link"));
    });
    afterEach(() => fs.rmSync(sandbox, { recursive: true, force: true }));

    const refusals: [string, (s: string) => string, RegExp][] = [
        ["an empty path", () => "", /^kaws: --out: an empty path; accepted: /],
        ["a blank path", () => "  ", /^kaws: --out: an empty path; accepted: /],
        ["the current folder", () => ".", /^kaws: --out \.: is the current folder; accepted: /],
        ["the current folder by its absolute path", (s) => s, /: is the current folder; accepted: /],
        ["an existing file", () => "a-file", /^kaws: --out a-file: is a file; accepted: /],
        ["a device", () => "/dev/null", /^kaws: --out \/dev\/null: is not a folder \(a device, socket or pipe\); accepted: /],
        ["a folder kaws did not write", () => "project", /^kaws: --out project: holds files kaws did not write \(no \.kaws-render\); accepted: /],
        ["a symbolic link", () => "link", /^kaws: --out link: is a symbolic link; accepted: /],
        ["the repository root", () => root, /: is the repository or a folder containing it; accepted: /],
        ["a folder containing the repository", () => path.dirname(root), /: is the repository or a folder containing it; accepted: /],
        ["the filesystem root", () => "/", /^kaws: --out \/: is the repository or a folder containing it; accepted: /],
        ["a path under /proc that cannot be written", () => "/proc/kaws-render", /^kaws: --out \/proc\/kaws-render: its folder \/proc cannot be written \(\w+\); accepted: /],
        ["a path under a file", () => "a-file/out", /^kaws: --out a-file\/out: its folder .*a-file cannot be written \(ENOTDIR: a file is in the way\); accepted: /],
    ];
    for (const [what, out, message] of refusals) {
        it(`refuses ${what} in one line, exit 2, and changes nothing`, async () => {
            const before = snapshotFiles(sandbox);
            const r = await render(out(sandbox), sandbox);
            expect(r.code).to.equal(exitCodes.usage);
            expect(r.stderr).to.match(message);
            expect(r.stderr.trim().split("\n"), "one line").to.have.length(1);
            expect(r.stderr).to.not.match(/\n\s+at /);
            expect(r.stdout).to.equal("");
            expect(snapshotFiles(sandbox)).to.deep.equal(before);
            expect(r.ms, "fails fast, before evaluating").to.be.below(3000);
        });
    }

    it("the repository root from inside it (`--out .` and `--out \"\"` in a checkout) deletes nothing", async () => {
        for (const out of [".", ""]) {
            const r = await render(out, root);
            expect(r.code).to.equal(exitCodes.usage);
            expect(fs.existsSync(path.join(root, "package.json")), "the checkout is intact").to.equal(true);
        }
    });

    it("writes a new folder (parents included) and an empty one, marking each as a kaws render", async () => {
        for (const out of ["fresh/nested/dev", "empty"]) {
            if (out === "empty") fs.mkdirSync(path.join(sandbox, out));
            const r = await render(out, sandbox);
            expect(r.code, r.stderr).to.equal(exitCodes.ok);
            expect(fs.existsSync(path.join(sandbox, out, renderMarker))).to.equal(true);
            expect(fs.existsSync(path.join(sandbox, out, "plan.json"))).to.equal(true);
        }
        expect(fs.readdirSync(sandbox).filter((f) => f.includes(".kaws-")), "no staging folders left").to.deep.equal([]);
    });

    it("replaces a previous render whole (a stale file goes), and nothing beside it", async () => {
        expect((await render("out", sandbox)).code).to.equal(exitCodes.ok);
        fs.writeFileSync(path.join(sandbox, "out", "stale.txt"), "from an older render");
        const beside = { ...snapshotFiles(sandbox) };
        delete beside["out/stale.txt"];
        const r = await render("out", sandbox);
        expect(r.code, r.stderr).to.equal(exitCodes.ok);
        expect(fs.existsSync(path.join(sandbox, "out", "stale.txt"))).to.equal(false);
        const after = snapshotFiles(sandbox);
        for (const file of Object.keys(beside).filter((f) => !f.startsWith("out/"))) expect(after[file], file).to.equal(beside[file]);
        expect(fs.readdirSync(sandbox).filter((f) => f.includes(".kaws-")), "no staging folders left").to.deep.equal([]);
    });
});
