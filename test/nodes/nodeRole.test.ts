import { expect } from "chai";
import { Evaluation, RecordedResource } from "../../automation/offline/engine";
import { assetStatements } from "../../nodes/nodeRole";
import { placeholderArn } from "../../automation/offline/placeholders";
import { evaluate, idOf, ofType } from "../harness";

function childrenOf(ev: Evaluation, parent: RecordedResource, type: string): RecordedResource[] {
    return ev.resources.filter((r) => r.parent === parent.urn && r.type === type);
}

describe("NodeRole", () => {
    let prod: Evaluation;
    before(async () => {
        prod = await evaluate("prod");
    });

    it("gives each node kind (and each worker pool) its own role, assumable by EC2 only, with SSM Session Manager", () => {
        const roles = ofType(prod, "kaws:iam:NodeRole");
        expect(roles.length).to.equal(1 + 1 + 2); // etcd, control plane, two pools
        for (const nodeRole of roles) {
            const [role] = childrenOf(prod, nodeRole, "aws:iam/role:Role");
            expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).to.deep.equal([
                { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
            ]);
            const attachments = childrenOf(prod, nodeRole, "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
            expect(attachments.map((a) => a.inputs.policyArn)).to.deep.equal(["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]);
        }
    });

    it("lets each role read only its own node files (etcd also its backups), and decrypt them only through S3", () => {
        const [bucket] = ofType(prod, "aws:s3/bucket:Bucket");
        const bucketArn = placeholderArn("eu-west-1", bucket.type, bucket.name);
        const expected: Record<string, string[]> = {
            "kaws-prod-etcd": ["nodes/etcd-*", "backups/etcd/*"],
            "kaws-prod-controlplane": ["nodes/controlplane/*"],
            "kaws-prod-general-worker-general": ["nodes/worker-general/*"],
            "kaws-prod-system-worker-system": ["nodes/worker-system/*"],
        };
        for (const nodeRole of ofType(prod, "kaws:iam:NodeRole")) {
            const [policy] = childrenOf(prod, nodeRole, "aws:iam/rolePolicy:RolePolicy");
            const statements = JSON.parse(policy.inputs.policy).Statement;
            const read = statements.find((s: any) => s.Sid === "ReadOwnFiles");
            expect(read.Action).to.deep.equal(["s3:GetObject"]);
            expect(read.Resource, nodeRole.name).to.deep.equal(expected[nodeRole.name].map((prefix) => `${bucketArn}/${prefix}`));
            const decrypt = statements.find((s: any) => s.Sid === "DecryptOwnFiles");
            expect(decrypt.Action).to.deep.equal(["kms:Decrypt"]);
            expect(decrypt.Condition).to.deep.equal({ StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } });
        }
    });

    it("is what every launch template's instances run as", () => {
        const profiles = new Map(ofType(prod, "aws:iam/instanceProfile:InstanceProfile").map((p) => [idOf(p), p]));
        const templates = ofType(prod, "aws:ec2/launchTemplate:LaunchTemplate");
        expect(templates.length).to.equal(3 + 1 + 2);
        for (const template of templates) {
            expect(profiles.has(template.inputs.iamInstanceProfile.name), `${template.name} profile ${template.inputs.iamInstanceProfile.name}`).to.equal(true);
        }
    });

    it("grants writes (and the data keys to encrypt them) only for write prefixes", () => {
        const readOnly = assetStatements("arn:aws:s3:::b", "arn:aws:kms:r:1:key/k", "eu-west-1", ["nodes/worker-a/"], []);
        expect(readOnly.flatMap((s) => s.Action)).to.have.members(["s3:GetObject", "s3:ListBucket", "kms:Decrypt"]);
        const writer = assetStatements("arn:aws:s3:::b", "arn:aws:kms:r:1:key/k", "eu-west-1", ["nodes/etcd-*/"], ["backups/etcd/"]);
        expect(writer.find((s) => s.Sid === "WriteOwnPrefix")!.Resource).to.deep.equal(["arn:aws:s3:::b/backups/etcd/*"]);
        expect(writer.find((s) => s.Sid === "ListOwnFiles")!.Condition).to.deep.equal({ StringLike: { "s3:prefix": ["nodes/etcd-*/*", "backups/etcd/*"] } });
        expect(writer.find((s) => s.Sid === "EncryptOwnWrites")!.Action).to.deep.equal(["kms:GenerateDataKey"]);
        const readsItsWrites = assetStatements("arn:aws:s3:::b", "arn:aws:kms:r:1:key/k", "eu-west-1", ["nodes/etcd-", "backups/etcd/"], ["backups/etcd/"]);
        expect(readsItsWrites.find((s) => s.Sid === "ListOwnFiles")!.Condition).to.deep.equal({ StringLike: { "s3:prefix": ["nodes/etcd-*", "backups/etcd/*"] } });
    });
});
