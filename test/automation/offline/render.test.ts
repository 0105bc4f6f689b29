import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Evaluation, RecordedResource } from "../../../automation/offline/engine";
import { nodeFilesOf, planOf, redacted, renderEnvironment } from "../../../automation/offline/render";
import { renderManifest } from "../../../nodes/fileDelivery";
import { root } from "../../harness";

function resource(type: string, name: string, inputs: Record<string, any>): RecordedResource {
    return { type, name, urn: `urn:pulumi:dev::kaws::${type}::${name}`, custom: true, inputs };
}

describe("kaws render", () => {
    let outDir: string;
    before(() => {
        outDir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-render-"));
    });
    after(() => fs.rmSync(outDir, { recursive: true, force: true }));

    it("writes plan.json with every resource, its parent, and the outputs of the real dev program", async () => {
        const result = await renderEnvironment(root, "dev", outDir);
        const plan = JSON.parse(fs.readFileSync(path.join(outDir, "plan.json"), "utf8"));
        expect(plan.stack).to.equal("dev");
        expect(plan.resources).to.have.length(result.resourceCount);
        const names = new Set(plan.resources.map((r: any) => `${r.type}::${r.name}`));
        expect(names).to.include("kaws:network:Network::kaws-dev");
        expect(names).to.include("aws:ec2/vpc:Vpc::kaws-dev-vpc");
        for (const r of plan.resources) {
            if (r.parent !== null) expect(names.has(r.parent), `parent of ${r.name}: ${r.parent}`).to.equal(true);
        }
        expect(plan.resources.find((r: any) => r.name === "kaws-dev-vpc").parent).to.equal("kaws:network:Network::kaws-dev");
        expect(plan.outputs.vpcId).to.match(/^placeholder-/);
        expect(plan.outputs.azNames).to.deep.equal(["eu-west-1a"]);
        expect(plan.outputs.securityGroupIds.workers).to.match(/^placeholder-/);
        for (const [key, value] of Object.entries<unknown>(plan.outputs)) {
            expect(JSON.stringify(value), key).to.not.match(/PRIVATE KEY|client-key-data|secretbox/);
            expect(JSON.stringify(value), `${key} is fully resolved`).to.not.include("[Output<T>]");
        }
    });

    it("redacts secret outputs in the plan and keeps plain ones", () => {
        const evaluation: Evaluation = {
            resources: [],
            outputs: { token: { value: "abcdef.0123456789abcdef", secret: true }, vpcId: { value: "vpc-1", secret: false } },
        };
        expect(planOf("dev", evaluation).outputs).to.deep.equal({ token: redacted, vpcId: "vpc-1" });
    });

    it("turns stored node files and tagged launch templates into role folders with manifest modes and owners", () => {
        const manifest = renderManifest([
            { path: "/etc/etcd/pki/server.key", mode: "0600", owner: "etcd:etcd" },
            { path: "/etc/etcd/etcd.conf.yml", mode: "0644" },
        ]);
        const evaluation: Evaluation = {
            outputs: {},
            resources: [
                resource("aws:s3/bucketObjectv2:BucketObjectv2", "a", { key: "nodes/etcd-0/etc/etcd/pki/server.key", content: "KEY" }),
                resource("aws:s3/bucketObjectv2:BucketObjectv2", "b", { key: "nodes/etcd-0/etc/etcd/etcd.conf.yml", content: "name: etcd-0" }),
                resource("aws:s3/bucketObjectv2:BucketObjectv2", "m", { key: "nodes/etcd-0/manifest.tsv", content: manifest }),
                resource("aws:s3/bucketObjectv2:BucketObjectv2", "other", { key: "backups/etcd/x", content: "not a node file" }),
                resource("aws:ec2/launchTemplate:LaunchTemplate", "lt", { tags: { "kaws:role": "etcd-0" }, userData: Buffer.from("#cloud-config\n").toString("base64") }),
            ],
        };
        expect(nodeFilesOf(evaluation)).to.deep.equal([
            { path: "etcd-0/etc/etcd/pki/server.key", content: "KEY", mode: 0o600, owner: "etcd:etcd" },
            { path: "etcd-0/etc/etcd/etcd.conf.yml", content: "name: etcd-0", mode: 0o644, owner: "root:root" },
            { path: "etcd-0/user-data", content: "#cloud-config\n", mode: 0o644, owner: "root:root" },
        ]);
    });

    it("refuses a stored node file its manifest does not list", () => {
        const evaluation: Evaluation = {
            outputs: {},
            resources: [
                resource("aws:s3/bucketObjectv2:BucketObjectv2", "a", { key: "nodes/controlplane/etc/stray", content: "x" }),
                resource("aws:s3/bucketObjectv2:BucketObjectv2", "m", { key: "nodes/controlplane/manifest.tsv", content: "" }),
            ],
        };
        expect(() => nodeFilesOf(evaluation)).to.throw("nodes/controlplane/etc/stray is missing from its role's manifest.tsv");
    });
});
