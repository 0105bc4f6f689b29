import { expect } from "chai";
import { Evaluation } from "../../automation/offline/engine";
import { PlannedStep, disruptionsOf } from "../../automation/disruptionGuard";
import { planCluster } from "../../plan/cluster";
import { parseClusterConfig } from "../../plan/config";
import { loadStackConfig } from "../../automation/stackConfig";
import { evaluate, root } from "../harness";

/**
 * Preview steps as the engine would announce them for the evaluated stack: every resource "same",
 * then the ops of one change applied by resource name.
 */
function previewOf(evaluation: Evaluation, ops: Record<string, string[]>): PlannedStep[] {
    const steps: PlannedStep[] = [];
    for (const r of evaluation.resources) {
        for (const op of ops[r.name] ?? ["same"]) steps.push({ op, urn: r.urn, type: r.type });
    }
    const unknown = Object.keys(ops).filter((name) => !evaluation.resources.some((r) => r.name === name));
    expect(unknown, "every resource the scenario names exists in the stack").to.deep.equal([]);
    return steps;
}

const replaced = ["create-replacement", "replace", "delete-replaced"];

for (const env of ["dev", "prod"]) {
    describe(`the disruption guard over ${env}'s evaluated resources`, function () {
        this.timeout(60_000);
        let evaluation: Evaluation;
        const plan = planCluster(parseClusterConfig(loadStackConfig(root, env)));
        const cluster = { clusterName: plan.clusterName, etcdMembers: plan.etcd.members.map((m) => m.name) };
        const c = plan.clusterName;
        before(async () => { evaluation = await evaluate(env); });

        it("the program protects exactly what holds state: every etcd member's volume and ENI, the cluster key, the assets bucket", () => {
            const held = evaluation.resources.filter((r) => r.protect).map((r) => `${r.type} ${r.name}`).sort();
            const expected = [
                ...plan.etcd.members.flatMap((m) => [`aws:ebs/volume:Volume ${c}-${m.name}-data`, `aws:ec2/networkInterface:NetworkInterface ${c}-${m.name}-eni`]),
                `aws:kms/key:Key ${c}-key`, `aws:s3/bucket:Bucket ${c}-assets`,
            ].sort();
            expect(held).to.deep.equal(expected);
        });

        it("lets an unchanged stack, and updates everywhere, through", () => {
            expect(disruptionsOf(previewOf(evaluation, {}), cluster)).to.deep.equal([]);
            const updates = Object.fromEntries(evaluation.resources.filter((r) => r.custom).map((r) => [r.name, ["update"]]));
            expect(disruptionsOf(previewOf(evaluation, updates), cluster)).to.deep.equal([]);
        });

        it("lets replacing worker groups and their launch templates through", () => {
            const workers = evaluation.resources.filter((r) => r.urn.includes("kaws:workers:WorkerPool") && r.custom);
            expect(workers.length).to.be.greaterThan(0);
            const ops = Object.fromEntries(workers.map((r) => [r.name, replaced]));
            expect(disruptionsOf(previewOf(evaluation, ops), cluster)).to.deep.equal([]);
        });

        it("refuses replacing more etcd members' volumes or ENIs than quorum tolerates, naming them; allows what it tolerates", () => {
            const tolerated = Math.floor((plan.etcd.members.length - 1) / 2);
            const members = plan.etcd.members.map((m) => m.name);
            const volumes = (n: number) => Object.fromEntries(members.slice(0, n).map((m) => [`${c}-${m}-data`, replaced]));
            if (tolerated > 0) expect(disruptionsOf(previewOf(evaluation, volumes(tolerated)), cluster)).to.deep.equal([]);
            const refused = disruptionsOf(previewOf(evaluation, volumes(tolerated + 1)), cluster);
            expect(refused).to.have.length(1);
            expect(refused[0]).to.include(`${tolerated + 1} of ${members.length} etcd members`).and.include(`${c}-etcd-0-data`);
            // A volume of one member and the ENI of another are two members.
            if (members.length > 1) {
                const mixed = disruptionsOf(previewOf(evaluation, { [`${c}-etcd-0-data`]: ["replace"], [`${c}-etcd-1-eni`]: ["delete"] }), cluster);
                expect(mixed.length > 0).to.equal(tolerated < 2);
            }
            // Volume, ENI and group of one member are one member.
            const one = disruptionsOf(previewOf(evaluation, { [`${c}-etcd-0-data`]: replaced, [`${c}-etcd-0-eni`]: replaced, [`${c}-etcd-0`]: ["delete"] }), cluster);
            expect(one.length > 0).to.equal(tolerated < 1);
        });

        it("refuses deleting or replacing the assets bucket, the cluster key or the control-plane group", () => {
            for (const name of [`${c}-assets`, `${c}-key`, `${c}-controlplane`]) {
                const found = evaluation.resources.filter((r) => r.name === name && r.custom);
                expect(found, name).to.have.length.greaterThan(0);
                for (const ops of [["delete"], replaced]) {
                    const problems = disruptionsOf(previewOf(evaluation, { [name]: ops }), cluster);
                    expect(problems, `${ops.join("+")} ${name}`).to.have.length.greaterThan(0);
                    expect(problems.join("\n")).to.include(name);
                }
            }
        });
    });
}
