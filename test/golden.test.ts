import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { addonFilesOf, nodeFilesOf, planOf } from "../automation/offline/render";
import { maskGenerated } from "../automation/offline/renderDiff";
import { evaluate } from "./harness";

// The dev render, committed under test/golden/dev: every file a node receives (with its mode), every add-on
// object and the resource plan. Generated keys, certificates and random values are masked. A change to what
// nodes receive shows in review as a change to these files. Regenerate with `npm run golden`.

const goldenDir = path.join(__dirname, "golden", "dev");
const masked = "<masked>";

const mask = maskGenerated;

async function goldenTree(): Promise<Map<string, string>> {
    const ev = await evaluate("dev");
    const tree = new Map<string, string>();
    const modes: string[] = [];
    for (const file of nodeFilesOf(ev)) {
        tree.set(file.path, mask(file.content));
        modes.push(`${file.mode.toString(8).padStart(4, "0")} ${file.path}`);
    }
    for (const file of addonFilesOf(ev)) tree.set(mask(file.path), mask(file.content));
    const plan = planOf("dev", ev);
    const resources = [...plan.resources].map((r) => ({ ...r, name: mask(r.name) })).sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
    // Generated at evaluation: the token id and the certificates' expiry times.
    const outputs = {
        ...plan.outputs,
        addonSettings: plan.outputs.addonSettings,
        certificateExpiry: Object.fromEntries(Object.keys(plan.outputs.certificateExpiry as object).map((k) => [k, masked])),
    };
    tree.set("plan.json", mask(JSON.stringify({ ...plan, resources, outputs }, null, 2)) + "\n");
    tree.set("MODES", modes.sort().join("\n") + "\n");
    return tree;
}

function readTree(dir: string): Map<string, string> {
    const tree = new Map<string, string>();
    const walk = (sub: string) => {
        for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
            const relative = path.join(sub, entry.name);
            if (entry.isDirectory()) walk(relative);
            else tree.set(relative, fs.readFileSync(path.join(dir, relative), "utf8"));
        }
    };
    if (fs.existsSync(dir)) walk("");
    return tree;
}

function unifiedDiff(name: string, before: string, after: string): string {
    const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "kaws-golden-"));
    try {
        fs.writeFileSync(path.join(dir, "a"), before);
        fs.writeFileSync(path.join(dir, "b"), after);
        const result = spawnSync("diff", ["-u", "--label", `golden/${name}`, "--label", `render/${name}`, path.join(dir, "a"), path.join(dir, "b")], { encoding: "utf8" });
        return result.stdout || `${name} differs`;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("golden render (dev)", function () {
    this.timeout(60000);

    it("a fresh render of dev matches test/golden/dev (run `npm run golden` to accept a change)", async () => {
        const fresh = await goldenTree();
        if (process.env.KAWS_UPDATE_GOLDEN === "1") {
            fs.rmSync(goldenDir, { recursive: true, force: true });
            for (const [relative, content] of fresh) {
                fs.mkdirSync(path.dirname(path.join(goldenDir, relative)), { recursive: true });
                fs.writeFileSync(path.join(goldenDir, relative), content);
            }
        }
        const golden = readTree(goldenDir);
        expect([...golden.keys()].length, "test/golden/dev exists").to.be.greaterThan(50);
        const added = [...fresh.keys()].filter((k) => !golden.has(k));
        const removed = [...golden.keys()].filter((k) => !fresh.has(k));
        const changed = [...fresh.keys()].filter((k) => golden.has(k) && golden.get(k) !== fresh.get(k));
        const report = [
            ...added.map((k) => `added: ${k}`),
            ...removed.map((k) => `removed: ${k}`),
            ...changed.slice(0, 5).map((k) => unifiedDiff(k, golden.get(k)!, fresh.get(k)!)),
            ...(changed.length > 5 ? [`… and ${changed.length - 5} more changed files`] : []),
        ];
        expect(report.join("\n"), "render differs from test/golden/dev").to.equal("");
    });

    it("masks every key, certificate and generated secret, and nothing else", () => {
        const cert = "-----BEGIN CERTIFICATE-----\nMIIB\nabc\n-----END CERTIFICATE-----";
        expect(mask(`a\n${cert}\nb`)).to.equal(`a\n-----BEGIN CERTIFICATE-----\n${masked}\n-----END CERTIFICATE-----\nb`);
        expect(mask("      token: ab12cd.0123456789abcdef")).to.equal(`      token: ${masked}.${masked}`);
        expect(mask("    client-key-data: TFMwdExT")).to.equal(`    client-key-data: ${masked}`);
        expect(mask("  token-secret: MDEyMzQ1Njc4OWFiY2RlZg==\n  token-id: YWJjZGVm")).to.equal(`  token-secret: ${masked}\n  token-id: ${masked}`);
        expect(mask("              secret: Q+jdwkJnQ01e6ADlR/w5y1Q7ocz7ex42h3WuFeeTzcw=")).to.equal(`              secret: ${masked}`);
        const plain = "ExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml\nkind: Secret\nname: weave-passwd\n";
        expect(mask(plain)).to.equal(plain);
    });
});
