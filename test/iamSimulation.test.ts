import { expect } from "chai";
import { Evaluation } from "../automation/offline/engine";
import { AwsRequest } from "../nodes/awsRequests";
import { evaluate } from "./harness";
import { IamWorld, WorldNode, buildWorld, requestsFor, describe as describeRequest, mutations, policyProblems, simulate } from "./iam";

// Every AWS request each node program and controller makes (the tables next to the code that grants them),
// evaluated by a real IAM policy evaluator against the policies the program creates: the role's identity
// policies, the key policy for KMS requests and the bucket policy for S3 requests.

async function denied(world: IamWorld, node: WorldNode, requests: readonly AwsRequest[]): Promise<string[]> {
    const refused: string[] = [];
    for (const request of requests) {
        const decision = await simulate(world, node, request);
        if (!decision.allowed) refused.push(`${node.role}: ${describeRequest(request)} -> ${decision.detail}`);
    }
    return refused;
}

/** A copy of the world with one role's policy statement (by Sid) taken out. */
function withoutStatement(world: IamWorld, iamRole: string, sid: string): IamWorld {
    const policies = world.rolePolicies.get(iamRole)!.map((p) => ({ ...p, policy: { ...p.policy, Statement: p.policy.Statement.filter((s: any) => s.Sid !== sid) } }));
    expect(JSON.stringify(policies)).to.not.equal(JSON.stringify(world.rolePolicies.get(iamRole)), `statement ${sid} exists`);
    return { ...world, rolePolicies: new Map([...world.rolePolicies, [iamRole, policies]]) };
}

describe("AWS access model (IAM policy simulator)", function () {
    this.timeout(120000);
    const worlds: Record<string, IamWorld> = {};
    before(async () => {
        for (const env of ["dev", "prod"]) worlds[env] = buildWorld(await evaluate(env) as Evaluation);
    });

    for (const env of ["dev", "prod"]) {
        it(`${env}: every request of every node program and controller is allowed`, async () => {
            const world = worlds[env];
            expect(world.nodes.map((n) => n.role)).to.include.members(["controlplane", "etcd-0"]);
            const refused: string[] = [];
            for (const node of world.nodes) refused.push(...await denied(world, node, requestsFor(world, node)));
            expect(refused).to.deep.equal([]);
        });

        it(`${env}: the same requests on another cluster's resources, another role's files or another key are denied`, async () => {
            const world = worlds[env];
            const problems: string[] = [];
            for (const node of world.nodes) {
                for (const request of requestsFor(world, node).filter((r) => !r.unscoped)) {
                    const variants = mutations.map((m) => ({ m, mutated: m.apply(request, world) })).filter((v) => v.mutated);
                    if (variants.length === 0) problems.push(`${node.role}: ${describeRequest(request)} is neither scoped nor marked unscoped`);
                    for (const { m, mutated } of variants) {
                        if ((await simulate(world, node, mutated!)).allowed) problems.push(`${node.role}: ${describeRequest(request)} is allowed on ${m.name}`);
                    }
                }
            }
            expect(problems).to.deep.equal([]);
        });

        it(`${env}: no role reads another role's files`, async () => {
            const world = worlds[env];
            const problems: string[] = [];
            for (const node of world.nodes) {
                for (const other of world.nodes.filter((n) => n.iamRole !== node.iamRole)) {
                    const foreign = requestsFor(world, other).filter((r) => r.action === "s3:GetObject" && other.fileKeys.some((k) => r.resource.endsWith(k)));
                    for (const request of foreign) {
                        if ((await simulate(world, node, request)).allowed) problems.push(`${node.role} may read ${request.resource}`);
                    }
                }
            }
            expect(problems).to.deep.equal([]);
        });

        it(`${env}: every action and condition key in every policy exists in AWS's authorization database`, async () => {
            const problems = (await Promise.all(worlds[env].documents.map((d) => policyProblems(d.name, d.policy)))).flat();
            expect(problems).to.deep.equal([]);
        });
    }

    it("every request is well-formed for the simulator (known action, resource type and context keys)", async () => {
        const world = worlds.prod;
        const invalid: string[] = [];
        for (const node of world.nodes) {
            for (const request of requestsFor(world, node)) {
                const decision = await simulate(world, node, request);
                if (decision.detail.startsWith("invalid")) invalid.push(`${describeRequest(request)}: ${decision.detail}`);
            }
        }
        expect(invalid).to.deep.equal([]);
    });

    describe("controls: the defects this layer exists for fail it", () => {
        it("an etcd role without kms:CreateGrant cannot attach its encrypted data volume", async () => {
            const world = worlds.dev;
            const etcd = world.nodes.find((n) => n.role === "etcd-0")!;
            const broken = withoutStatement(world, etcd.iamRole, "GrantEc2UseOfClusterKeyForAttach");
            const refused = await denied(broken, etcd, requestsFor(broken, etcd));
            expect(refused.join("\n")).to.contain("kms:CreateGrant").and.to.contain("attach-volume");
        });

        it("a bucket policy that also refuses writes without SSE headers refuses a snapshot upload over 8 MiB", async () => {
            const world = worlds.dev;
            const etcd = world.nodes.find((n) => n.role === "etcd-0")!;
            const policy = JSON.parse(JSON.stringify(world.bucketPolicy));
            for (const statement of policy.Statement) delete statement.Condition.Null;
            const refused = await denied({ ...world, bucketPolicy: policy }, etcd, requestsFor(world, etcd));
            expect(refused.join("\n")).to.contain("UploadPart");
            expect(refused.join("\n")).to.not.contain("CreateMultipartUpload");
        });

        it("a mutation the policies do not scope is reported", async () => {
            const world = worlds.dev;
            const etcd = world.nodes.find((n) => n.role === "etcd-0")!;
            const broad = world.rolePolicies.get(etcd.iamRole)!.map((p) => ({
                ...p, policy: { ...p.policy, Statement: p.policy.Statement.map(({ Condition, ...s }: any) => (s.Sid === "AttachMemberEniAndVolume" || !Condition ? s : { ...s, Condition })) },
            }));
            const wide = { ...world, rolePolicies: new Map([...world.rolePolicies, [etcd.iamRole, broad]]) };
            const attach = requestsFor(wide, etcd).filter((r) => r.action === "ec2:AttachVolume" && r.resource.includes(":volume/"));
            const mutated = mutations[0].apply(attach[0], wide)!;
            expect((await simulate(wide, etcd, mutated)).allowed).to.equal(true);
            expect((await simulate(world, etcd, mutated)).allowed).to.equal(false);
        });

        it("an unknown action or condition key is reported", async () => {
            const problems = await policyProblems("p", { Statement: [{ Effect: "Allow", Action: ["ec2:AttachVolumes", "ec2:Describ*x"], Resource: "*", Condition: { StringEquals: { "ec2:NoSuchKey": "x" } } }] });
            expect(problems).to.have.length(3);
        });
    });
});
