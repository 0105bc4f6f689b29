import { expect } from "chai";
import * as auto from "@pulumi/pulumi/automation";
import { StackLockedError } from "../../automation/driver";
import { handleFor, policyPackDir, pulumiStacks } from "../../automation/stacks";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { root } from "../harness";

/** A stand-in for an Automation API Stack: records the options each operation receives. */
function fakeStack(behaviour: { fail?: unknown; events?: auto.EngineEvent[]; state?: auto.Deployment } = {}) {
    const calls: { op: string; options: any; env?: Record<string, string> }[] = [];
    const workspace = { envVars: { EXISTING: "1" } as Record<string, string> };
    const answer = async (op: string, options: any, result: unknown) => {
        calls.push({ op, options, env: { ...workspace.envVars } });
        if (behaviour.fail) throw behaviour.fail;
        return result;
    };
    const stack = {
        name: "dev",
        workspace,
        preview: (o: any) => {
            for (const event of behaviour.events ?? []) o.onEvent?.(event);
            return answer("preview", o, { changeSummary: { create: 3, same: 1 } });
        },
        up: (o: any) => answer("up", o, { summary: { resourceChanges: { update: 2 } }, outputs: { podCidr: { value: "10.32.0.0/12", secret: false } } }),
        destroy: (o: any) => answer("destroy", o, { summary: { resourceChanges: { delete: 9 } } }),
        outputs: async () => ({ kubeconfig: { value: "x", secret: true } }),
        setAllConfig: async (values: unknown) => { calls.push({ op: "setAllConfig", options: values }); },
        exportStack: async () => { calls.push({ op: "exportStack", options: undefined }); return JSON.parse(JSON.stringify(behaviour.state)); },
        importStack: async (state: auto.Deployment) => { calls.push({ op: "importStack", options: state }); },
    };
    return { handle: handleFor(stack as unknown as auto.Stack, "kaws", [policyPackDir(root)]), calls, workspace };
}

/** An exported state as `pulumi stack export` writes it: two protected resources and one that is not. */
const exported: auto.Deployment = {
    version: 3,
    deployment: {
        manifest: { time: "2026-12-03T00:00:00Z" },
        resources: [
            { urn: "urn:pulumi:dev::kaws::aws:kms/key:Key::kaws-dev-key", type: "aws:kms/key:Key", protect: true, outputs: { arn: "k" } },
            { urn: "urn:pulumi:dev::kaws::aws:s3/bucket:Bucket::kaws-dev-assets", type: "aws:s3/bucket:Bucket", protect: true },
            { urn: "urn:pulumi:dev::kaws::aws:ec2/vpc:Vpc::kaws-dev-vpc", type: "aws:ec2/vpc:Vpc" },
        ],
    },
};

describe("stacks: the Automation API wrapper behind the driver's seam", () => {
    const signal = new AbortController().signal;
    const onOutput = () => undefined;

    it("unprotects through the exported state: only the protected resources asked for, nothing else changed; no import when nothing is protected", async () => {
        const { handle, calls } = fakeStack({ state: exported });
        expect(await handle.unprotect(["urn:pulumi:dev::kaws::aws:s3/bucket:Bucket::kaws-dev-assets", "urn:pulumi:dev::kaws::aws:ec2/vpc:Vpc::kaws-dev-vpc"]))
            .to.deep.equal(["urn:pulumi:dev::kaws::aws:s3/bucket:Bucket::kaws-dev-assets"]);
        const imported = calls.find((c) => c.op === "importStack")!.options as auto.Deployment;
        expect(imported.deployment.resources.map((r: any) => r.protect ?? false)).to.deep.equal([true, false, false]);
        expect({ ...imported, deployment: { ...imported.deployment, resources: [] } }).to.deep.equal({ ...exported, deployment: { ...exported.deployment, resources: [] } });
        expect(imported.deployment.resources[0]).to.deep.equal(exported.deployment.resources[0]);

        const all = fakeStack({ state: exported });
        expect(await all.handle.unprotect()).to.have.length(2);
        const none = fakeStack({ state: { version: 3, deployment: { resources: [exported.deployment.resources[2]] } } });
        expect(await none.handle.unprotect()).to.deep.equal([]);
        expect(none.calls.map((c) => c.op)).to.deep.equal(["exportStack"]);
    });

    it("passes the abort signal and the output stream to every operation and maps the change counts", async () => {
        const { handle, calls } = fakeStack();
        expect(handle.name).to.equal("kaws/dev");
        expect(await handle.preview({ onOutput, signal })).to.deep.equal({ create: 3, same: 1 });
        expect(await handle.up({ onOutput, signal })).to.deep.equal({ changes: { update: 2 }, outputs: { podCidr: { value: "10.32.0.0/12", secret: false } } });
        expect(await handle.destroy({ onOutput, signal })).to.deep.equal({ delete: 9 });
        for (const call of calls) {
            expect(call.options.signal, call.op).to.equal(signal);
            expect(call.options.onOutput, call.op).to.equal(onOutput);
        }
        expect(calls.find((c) => c.op === "destroy")!.env).to.deep.equal({ EXISTING: "1" });
    });

    it("runs the kaws policy pack (a real pack folder) on every preview and update, not on destroy", async () => {
        const { handle, calls } = fakeStack();
        await handle.preview({ onOutput, signal });
        await handle.up({ onOutput, signal });
        await handle.destroy({ onOutput, signal });
        const packs = Object.fromEntries(calls.map((c) => [c.op, c.options.policyPacks]));
        expect(packs).to.deep.equal({ preview: [path.join(root, "policy")], up: [path.join(root, "policy")], destroy: undefined });
        expect(fs.readFileSync(path.join(packs.preview[0], "PulumiPolicy.yaml"), "utf8")).to.match(/^runtime: nodejs$/m);
    });

    it("hands the driver each step a preview plans, from the engine's resource pre-events only", async () => {
        const urn = "urn:pulumi:dev::kaws::kaws:etcd:EtcdCluster$aws:ebs/volume:Volume::kaws-dev-etcd-0-data";
        const events = [
            { sequence: 1, timestamp: 0, resourcePreEvent: { metadata: { op: "replace", urn, type: "aws:ebs/volume:Volume", provider: "" } } },
            { sequence: 2, timestamp: 0, diagnosticEvent: { message: "hello", color: "never", severity: "info" } },
        ] as unknown as auto.EngineEvent[];
        const steps: unknown[] = [];
        await fakeStack({ events }).handle.preview({ onOutput, signal, onStep: (step) => steps.push(step) });
        expect(steps).to.deep.equal([{ op: "replace", urn, type: "aws:ebs/volume:Volume" }]);
    });

    it("lets the kubernetes provider drop unreachable objects only for a destroy that asks for it", async () => {
        const { handle, calls } = fakeStack();
        await handle.destroy({ onOutput, signal, dropUnreachable: true });
        expect(calls[0].env).to.deep.equal({ EXISTING: "1", PULUMI_K8S_DELETE_UNREACHABLE: "true" });
    });

    it("turns Pulumi's ConcurrentUpdateError into StackLockedError naming the stack, and passes other errors through", async () => {
        const concurrent = Object.assign(Object.create(auto.ConcurrentUpdateError.prototype), { message: "[409] Conflict: Another update is currently in progress." });
        let error: unknown;
        try { await fakeStack({ fail: concurrent }).handle.up({ onOutput, signal }); } catch (err) { error = err; }
        expect(error).to.be.instanceOf(StackLockedError);
        expect((error as Error).message).to.match(/^stack kaws\/dev is locked by another update/);
        const other = new Error("boom");
        try { await fakeStack({ fail: other }).handle.preview({ onOutput, signal }); } catch (err) { error = err; }
        expect(error).to.equal(other);
    });

    it("runs both programs transpile-only: the language host's PULUMI_NODEJS_TRANSPILE_ONLY is set on each workspace", async () => {
        const selected: { args: auto.LocalProgramArgs; options: auto.LocalWorkspaceOptions }[] = [];
        const stacks = pulumiStacks(root, async (args, options) => {
            selected.push({ args, options });
            return fakeStack().handle as unknown as auto.Stack;
        });
        await stacks.infra("dev");
        await stacks.addons("dev");
        expect(selected.map((s) => s.args)).to.deep.equal([{ stackName: "dev", workDir: root }, { stackName: "dev", workDir: path.join(root, "addons", "program") }]);
        for (const { options } of selected) expect(options.envVars).to.deep.equal({ PULUMI_NODEJS_TRANSPILE_ONLY: "true" });
    });

    it("says in one line that the Pulumi CLI is missing, when it is", async function () {
        let installed = false;
        try { execFileSync("pulumi", ["version"], { stdio: "ignore" }); installed = true; } catch { /* not installed: the case under test */ }
        if (installed) {
            console.log("    skipped: the Pulumi CLI is on PATH");
            this.skip();
        }
        let error: unknown;
        try { await pulumiStacks(root).infra("dev"); } catch (err) { error = err; }
        expect((error as Error).message).to.equal("the Pulumi CLI is not on PATH; install it (the Automation API drives it), or use `kaws render`, which needs no CLI");
    });
});
