import { expect } from "chai";
import { Evaluation } from "../../automation/offline/engine";
import { manifestName } from "../../nodes/fileDelivery";
import { evaluate, ofType } from "../harness";

const program = "test/fixtures/workerPoolProgram.ts";
const digestLine = /^# kaws node files sha256:([0-9a-f]{64})$/m;

function userDataOf(evaluation: Evaluation, role: string): string {
    const template = ofType(evaluation, "aws:ec2/launchTemplate:LaunchTemplate").find((t) => t.inputs.tags["kaws:role"] === role)!;
    return Buffer.from(template.inputs.userData, "base64").toString("utf8");
}

function storedFiles(evaluation: Evaluation, role: string): Record<string, string> {
    return Object.fromEntries(ofType(evaluation, "aws:s3/bucketObjectv2:BucketObjectv2")
        .filter((o) => o.inputs.key.startsWith(`nodes/${role}/`))
        .map((o) => [o.inputs.key, String(o.inputs.content)]));
}

describe("NodeFiles", () => {
    const pool = { name: "general", instanceTypes: ["m7i.large"], minSize: 1, desiredSize: 1, maxSize: 3 };
    let base: Evaluation;
    let again: Evaluation;
    let relabelled: Evaluation;
    before(async () => {
        base = await evaluate("dev", { workerPools: [pool] }, program);
        again = await evaluate("dev", { workerPools: [pool] }, program);
        relabelled = await evaluate("dev", { workerPools: [{ ...pool, labels: { team: "data" } }] }, program);
    });

    it("stores every file SSE-KMS under the role prefix, with a manifest listing each one", () => {
        const objects = ofType(base, "aws:s3/bucketObjectv2:BucketObjectv2").filter((o) => o.inputs.key.startsWith("nodes/worker-general/"));
        const manifest = objects.find((o) => o.inputs.key === `nodes/worker-general/${manifestName}`)!;
        const listed = String(manifest.inputs.content).trim().split("\n").map((line) => `nodes/worker-general${line.split(" ")[2]}`);
        expect(objects.map((o) => o.inputs.key).filter((key) => !key.endsWith(manifestName))).to.have.members(listed);
        for (const o of objects) {
            expect(o.inputs.serverSideEncryption, o.inputs.key).to.equal("aws:kms");
            expect(o.inputs.kmsKeyId, o.inputs.key).to.equal(base.outputs.kmsKeyArn.value);
        }
    });

    it("stamps the launch template with a digest of the role's files that is stable while they are", () => {
        const stamped = userDataOf(base, "worker-general");
        expect(stamped.split("\n")[0]).to.equal("#cloud-config");
        expect(stamped).to.match(digestLine);
        expect(userDataOf(again, "worker-general")).to.equal(stamped);
    });

    it("changes only the digest of the launch template when a file changes, so the pool rolls", () => {
        const before = storedFiles(base, "worker-general");
        const after = storedFiles(relabelled, "worker-general");
        const changed = Object.keys(before).filter((key) => before[key] !== after[key]);
        expect(changed.length, "files changed by a new label").to.be.greaterThan(0);
        const [oldData, newData] = [userDataOf(base, "worker-general"), userDataOf(relabelled, "worker-general")];
        expect(newData.match(digestLine)![1]).to.not.equal(oldData.match(digestLine)![1]);
        expect(newData.replace(digestLine, "")).to.equal(oldData.replace(digestLine, ""));
    });
});
