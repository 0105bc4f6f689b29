import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderShellScript, shellQuote, shellScriptPath } from "../../nodes/shellScript";
import { root } from "../harness";
import { toolAvailable } from "../tools";

/** Every .sh file in the project (node_modules and .git aside), relative to the root. */
function shellFiles(dir = ""): string[] {
    return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
        const relative = path.join(dir, entry.name);
        if (entry.isDirectory()) return entry.name === "node_modules" || entry.name.startsWith(".") ? [] : shellFiles(relative);
        return entry.name.endsWith(".sh") ? [relative] : [];
    });
}

/** What bash makes of `name=<quoted value>`: the value, byte for byte. */
function bashValue(quoted: string): string {
    const run = spawnSync("bash", ["-c", `set -u\nv=${quoted}\nprintf '%s' "$v"`], { encoding: "utf8", timeout: 10_000 });
    expect(run.status, run.stderr).to.equal(0);
    return run.stdout;
}

describe("node shell scripts (.sh files next to their renderers)", () => {
    const scripts = ["etcd/boot.sh", "etcd/snapshot.sh", "etcd/restore.sh", "nodes/boot.sh", "controlPlane/mark-control-plane.sh", "controlPlane/node-bootstrap.sh", "controlPlane/ready-gate.sh", "controlPlane/kube-admin.sh", "nodes/fetch-files.sh", "network/nat-instance.sh"];

    it("finds every script a renderer reads, each starting #!/bin/bash", () => {
        expect(shellFiles()).to.include.members(scripts);
        for (const file of shellFiles()) expect(fs.readFileSync(path.join(root, file), "utf8"), file).to.match(/^#!\/bin\/bash\n/);
    });

    it("every committed .sh file passes shellcheck -s bash -S style on its own", function () {
        if (!toolAvailable("shellcheck", this, ["--version"])) return;
        const files = shellFiles();
        expect(files).to.include.members(scripts);
        for (const file of files) {
            const check = spawnSync("shellcheck", ["-s", "bash", "-S", "style", path.join(root, file)], { encoding: "utf8", timeout: 20_000 });
            expect(check.status, `${file}\n${check.stdout}${check.stderr}`).to.equal(0);
        }
    });
});

describe("renderShellScript (the rendered header of values)", () => {
    let dir: string;
    let file: string;
    before(() => {
        // A script of its own under the project root, so the helper reads it the way it reads the real ones.
        dir = fs.mkdtempSync(path.join(root, "test", ".shell-script-"));
        file = path.relative(root, path.join(dir, "probe.sh"));
        fs.writeFileSync(shellScriptPath(file), '#!/bin/bash\n# A probe: $KAWS_IN_A_COMMENT is not a use.\nset -euo pipefail\nprintf \'%s\\0\' "$KAWS_A" "${KAWS_B}" "${KAWS_C:-}"\n');
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const tricky = [
        "plain", "", "two words", "it's", `"double"`, "$HOME and ${PATH} and $(id) and `id`", "back\\slash",
        "line one\nline two\n", "tab\there", "cr\rhere", "'", "\\'", "*", "~root", "a;b|c&d>e<f", "-n", "ünïcødé", "x\x01\x7fy",
    ];

    it("quotes values so bash reads back exactly what was given (spaces, quotes, $, newlines, control characters)", () => {
        for (const value of tricky) {
            const quoted = shellQuote(value);
            expect(quoted, JSON.stringify(value)).to.not.include("\n");
            expect(bashValue(quoted), JSON.stringify(value)).to.equal(value);
        }
        expect(shellQuote("etcd-0")).to.equal("etcd-0");
        expect(shellQuote("10.16.32.10 10.16.0.11")).to.equal("'10.16.32.10 10.16.0.11'");
        expect(() => shellQuote("a\0b")).to.throw(/NUL/);
    });

    it("prepends #!/bin/bash, the comment and one name=value line per value, then the body; the result runs", () => {
        const values = { KAWS_A: "it's $HOME", KAWS_B: "multi\nline", KAWS_C: 42 };
        const script = renderShellScript(file, values, "a probe with 'quotes' and $dollars");
        const lines = script.split("\n");
        expect(lines[0]).to.equal("#!/bin/bash");
        expect(lines[1]).to.equal("# a probe with 'quotes' and $dollars");
        expect(lines[2]).to.match(/^# Rendered by kaws: .*probe\.sh\.$/);
        expect(lines.slice(3, 6)).to.deep.equal([`KAWS_A='it'\\''s $HOME'`, "KAWS_B=$'multi\\nline'", "KAWS_C=42"]);
        expect(lines[6]).to.equal("# A probe: $KAWS_IN_A_COMMENT is not a use.");
        expect(script.match(/^#!/gm)).to.have.length(1);
        const run = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 10_000 });
        expect(run.status, run.stderr).to.equal(0);
        expect(run.stdout.split("\0")).to.deep.equal(["it's $HOME", "multi\nline", "42", ""]);
    });

    it("the rendered probe passes shellcheck too", function () {
        if (!toolAvailable("shellcheck", this, ["--version"])) return;
        const rendered = path.join(os.tmpdir(), `kaws-probe-${process.pid}.sh`);
        try {
            fs.writeFileSync(rendered, renderShellScript(file, { KAWS_A: "a b", KAWS_B: "x\ny", KAWS_C: "" }, "probe"));
            const check = spawnSync("shellcheck", ["-s", "bash", "-S", "style", rendered], { encoding: "utf8", timeout: 20_000 });
            expect(check.status, check.stdout).to.equal(0);
        } finally {
            fs.rmSync(rendered, { force: true });
        }
    });

    it("refuses a value the script does not use, a variable the script uses but is not given, and a bad name", () => {
        expect(() => renderShellScript(file, { KAWS_A: "a", KAWS_B: "b", KAWS_C: "c", KAWS_UNUSED: "x" }, "probe"))
            .to.throw(/KAWS_UNUSED is set but the script does not use it/);
        expect(() => renderShellScript(file, { KAWS_A: "a", KAWS_C: "c" }, "probe")).to.throw(/uses KAWS_B, which is not set/);
        // A variable named only in a comment is neither a use nor required.
        expect(() => renderShellScript(file, { KAWS_A: "a", KAWS_B: "b", KAWS_C: "c", KAWS_IN_A_COMMENT: "x" }, "probe")).to.throw(/KAWS_IN_A_COMMENT is set/);
        expect(() => renderShellScript(file, { KAWS_A: "a", KAWS_B: "b", KAWS_C: "c", lower: "x" }, "probe")).to.throw(/lower is not a KAWS_<NAME> variable/);
        expect(() => renderShellScript(file, { KAWS_A: "a", KAWS_B: "b", KAWS_C: "c" }, "two\nlines")).to.throw(/one line/);
    });
});
