import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { exitCodes, runCli } from "../../../automation/cli";
import { diffRenders, formatRenderDiff } from "../../../automation/offline/renderDiff";
import { root, throwawayProject } from "../../harness";
import { loadStackConfig } from "../../../automation/stackConfig";

// `kaws render <env> --diff DIR`: what a reviewer needs in a pull request. Two renders of the same
// configuration differ in nothing (generated keys and secrets are masked); a changed setting shows as
// the node files, add-on objects and resource inputs it changes, and what it replaces or rolls.

describe("kaws render --diff", function () {
    this.timeout(90_000);
    let dir: string;
    let out = "";
    const cli = async (argv: string[]) => {
        let stdout = "";
        let stderr = "";
        const code = await runCli(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } }, dir, undefined, path.join(dir, "work"));
        out = stdout;
        return { code, stdout, stderr };
    };
    const setConfig = (set: Record<string, unknown>) => {
        const file = path.join(dir, "Pulumi.dev.yaml");
        const doc = YAML.parse(fs.readFileSync(file, "utf8"));
        Object.assign(doc.config, set);
        fs.writeFileSync(file, YAML.stringify(doc));
    };

    before(async () => {
        dir = throwawayProject();
        expect((await cli(["render", "dev", "--out", "base"])).code).to.equal(exitCodes.ok);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("finds no change between two renders of the same configuration (every generated key, certificate and secret differs underneath)", async () => {
        const r = await cli(["render", "dev", "--out", "same", "--diff", "base"]);
        expect(r.code, r.stderr).to.equal(exitCodes.ok);
        expect(r.stdout).to.match(/diff against .*base:\nno changes\n$/);
        const raw = fs.readFileSync(path.join(dir, "work/same/controlplane/etc/kubernetes/pki/ca.key"), "utf8");
        expect(raw).to.not.equal(fs.readFileSync(path.join(dir, "work/base/controlplane/etc/kubernetes/pki/ca.key"), "utf8"));
    });

    it("shows a changed setting as its node-file patch, the resources it changes, and the nodes it rolls", async () => {
        setConfig({ "kaws:etcdSnapshotIntervalMinutes": 15, "kaws:apiAllowedCidrs": ["10.1.0.0/16"] });
        const r = await cli(["render", "dev", "--out", "changed", "--diff", "base"]);
        expect(r.code, r.stderr).to.equal(exitCodes.ok);
        expect(r.stdout).to.contain("~ etcd-0/etc/systemd/system/kaws-etcd-snapshot.timer");
        const committed = loadStackConfig(root, "dev")["kaws:etcdSnapshotIntervalMinutes"];
        expect(committed).to.not.equal("15");
        expect(r.stdout).to.match(new RegExp(`^-OnUnitActiveSec=${committed}min$`, "m")).and.to.match(/^\+OnUnitActiveSec=15min$/m);
        expect(r.stdout).to.match(/~ aws:ec2\/securityGroup:SecurityGroup::kaws-dev-api-lb {2}\(ingress\)/);
        expect(r.stdout).to.contain("! rolls etcd-0: a new launch template version; etcd members move only by the one-at-a-time roll");
        expect(r.stdout, "no key material in a diff").to.not.match(/PRIVATE KEY-----\n(?!<masked>)/);
    });

    it("warns when a change replaces a resource that holds state, or deletes one", () => {
        const base = path.join(dir, "work/base");
        const copy = path.join(dir, "work/edited");
        fs.cpSync(base, copy, { recursive: true });
        const plan = JSON.parse(fs.readFileSync(path.join(copy, "plan.json"), "utf8"));
        const volume = plan.resources.find((r: any) => r.type === "aws:ebs/volume:Volume");
        volume.inputs.availabilityZone = "eu-west-1b";
        volume.inputs.size = 40;
        plan.resources = plan.resources.filter((r: any) => r.type !== "aws:ec2/networkInterface:NetworkInterface");
        fs.writeFileSync(path.join(copy, "plan.json"), JSON.stringify(plan));
        const d = diffRenders(base, copy);
        expect(d.warnings).to.include.members([
            `replaces aws:ebs/volume:Volume::${volume.name} (availabilityZone changed), which holds an etcd member's data`,
            "deletes aws:ec2/networkInterface:NetworkInterface::kaws-dev-etcd-0-eni, which holds an etcd member's fixed address",
        ]);
        expect(d.resources.find((r) => r.key.endsWith(volume.name))!.inputs).to.deep.equal(["availabilityZone", "size"]);
        expect(formatRenderDiff(d)).to.match(/^Changes that replace state or roll nodes:\n {2}! /);
    });

    it("refuses a --diff folder that is not a render, or the --out folder itself, before rendering", async () => {
        for (const [args, message] of [
            [["--out", "x", "--diff", ".."], /^kaws: --diff \.\.: is not a kaws render; accepted: /],
            [["--out", "base", "--diff", "base"], /^kaws: --diff base: is the --out folder itself; accepted: /],
            [["--out", "y", "--diff", ""], /^kaws: --diff: an empty path; accepted: /],
        ] as [string[], RegExp][]) {
            const r = await cli(["render", "dev", ...args]);
            expect(r.code).to.equal(exitCodes.usage);
            expect(r.stderr).to.match(message);
            expect(fs.existsSync(path.join(dir, "work", args[1])) && args[1] !== "base", "nothing rendered").to.equal(false);
        }
        expect(out).to.equal("");
    });
});
