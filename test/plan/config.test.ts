import { expect } from "chai";
import { EvaluationError } from "../../automation/offline/engine";
import { loadStackConfig } from "../../automation/stackConfig";
import { ConfigError, parseClusterConfig } from "../../plan/config";
import { evaluate, root } from "../harness";

const dnsLabelRule = 'accepted: a DNS label (a-z, 0-9, "-", starting with a letter) of at most 24 characters';

/** Two pools, the second at `kubernetesVersion` (the first follows the control plane). */
const poolsWithVersion = (kubernetesVersion: string) => [
    { name: "general", instanceTypes: ["m7i.large"], minSize: 1, desiredSize: 1, maxSize: 2 },
    { name: "canary", instanceTypes: ["m7i.large"], minSize: 1, desiredSize: 1, maxSize: 2, kubernetesVersion },
];
const skewRule = "(supported, not newer than kaws:kubernetesVersion, at most 3 minors older), or unset to follow kaws:kubernetesVersion";

/** [what, environment, overrides, every expected problem line] */
const badConfigs: [string, string, Record<string, unknown>, string[]][] = [
    ["cluster name with capitals and underscore", "dev", { clusterName: "Kaws_Dev" }, [`kaws:clusterName: "Kaws_Dev" is not allowed; ${dnsLabelRule}`]],
    ["cluster name too long for NLB names", "dev", { clusterName: "a-very-long-cluster-name-x" }, [`kaws:clusterName: "a-very-long-cluster-name-x" is not allowed; ${dnsLabelRule}`]],
    ["VPC CIDR with host bits", "dev", { vpcCidr: "10.0.0.1/16" }, ['kaws:vpcCidr: "10.0.0.1/16" is not a CIDR network address; accepted: a.b.c.d/n with no host bits set']],
    ["public VPC CIDR", "dev", { vpcCidr: "8.8.0.0/16" }, ['kaws:vpcCidr: "8.8.0.0/16" is not private; accepted: inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16']],
    ["VPC too small for the subnet plan", "dev", { vpcCidr: "10.0.0.0/24" }, ['kaws:vpcCidr: "10.0.0.0/24" has prefix /24; accepted: /16 to /20']],
    ["zero AZs", "dev", { azCount: 0 }, ["kaws:azCount: 0 is out of range; accepted: an integer from 1 to 6"]],
    ["more AZs than the plan holds", "dev", { azCount: 7 }, ["kaws:azCount: 7 is out of range; accepted: an integer from 1 to 6"]],
    ["AZ count that is not a number", "dev", { azCount: "three" }, ['kaws:azCount: "three" is not an integer; accepted: an integer from 1 to 6']],
    ["prod over two AZs", "prod", { azCount: 2 }, ['kaws:azCount: 2 is too few for environment "prod"; accepted: 3 to 6']],
    ["even etcd member count", "dev", { etcdMembers: 2 }, ["kaws:etcdMembers: 2 is not allowed; accepted: 1 | 3 | 5 | 7"]],
    ["prod with one etcd member", "prod", { etcdMembers: 1 }, ['kaws:etcdMembers: 1 is too few for environment "prod"; accepted: 3 | 5 | 7']],
    ["no control plane", "dev", { controlPlaneCount: 0 }, ["kaws:controlPlaneCount: 0 is out of range; accepted: an integer from 1 to 9"]],
    ["prod with one control-plane node", "prod", { controlPlaneCount: 1 }, ['kaws:controlPlaneCount: 1 is too few for environment "prod"; accepted: 2 to 9']],
    ["NAT strategy misspelled", "dev", { natGateways: "perAZ" }, ['kaws:natGateways: "perAZ" is not allowed; accepted: perAz | single | instance | none']],
    ["unsupported Kubernetes version", "dev", { kubernetesVersion: "1.30.0" }, ['kaws:kubernetesVersion: "1.30.0" is not allowed; accepted: 1.36.4 | 1.35.9']],
    ["pod range overlapping the VPC", "dev", { podCidr: "10.0.0.0/12" }, ['kaws:podCidr: "10.0.0.0/12" overlaps kaws:vpcCidr "10.0.0.0/16"; accepted: a range disjoint from it']],
    ["service range overlapping the pod range", "dev", { serviceCidr: "10.40.0.0/16" }, ['kaws:serviceCidr: "10.40.0.0/16" overlaps kaws:podCidr "10.32.0.0/12"; accepted: a range disjoint from it']],
    ["worker pool names not unique", "dev", {
        workerPools: [
            { name: "general", instanceTypes: ["m7i.large"], minSize: 1, desiredSize: 1, maxSize: 2 },
            { name: "general", instanceTypes: ["m7i.large"], minSize: 1, desiredSize: 1, maxSize: 2 },
        ],
    }, ['kaws:workerPools[1].name: "general" is used by another pool; accepted: unique names']],
    ["worker pool name not a DNS label", "dev", {
        workerPools: [{ name: "Big_Pool", instanceTypes: ["m7i.large"], minSize: 1, desiredSize: 1, maxSize: 2 }],
    }, ['kaws:workerPools[0].name: "Big_Pool" is malformed; accepted: values matching ^[a-z]([-a-z0-9]*[a-z0-9])?$']],
    ["worker pool labels a kubelet cannot register with, or malformed", "dev", {
        workerPools: [{ name: "general", instanceTypes: ["m7i.large"], minSize: 1, desiredSize: 1, maxSize: 2, labels: { "node-role.kubernetes.io/worker": "", "bad key": "x", team: "a b", "kaws.io/pool": "other" } }],
    }, [
        'kaws:workerPools[0].labels["node-role.kubernetes.io/worker"]: "node-role.kubernetes.io/worker" is refused: kubelets cannot set kubernetes.io/ or k8s.io/ labels on themselves (NodeRestriction); accepted: another prefix such as kaws.io/, or node.kubernetes.io/ and kubelet.kubernetes.io/',
        `kaws:workerPools[0].labels["bad key"]: "bad key" is not a valid label key; accepted: [prefix/]name, the name of at most 63 characters (letters, digits, '-', '_', '.'), the prefix a DNS subdomain`,
        `kaws:workerPools[0].labels["team"]: "a b" is not a valid label value; accepted: at most 63 characters (letters, digits, '-', '_', '.'), starting and ending with a letter or digit, or empty`,
        'kaws:workerPools[0].labels["kaws.io/pool"]: "other" is not the pool\'s name, which kaws sets it to; accepted: "general" or no such label',
    ]],
    ["worker pool taint key with a space", "dev", {
        workerPools: [{ name: "general", instanceTypes: ["m7i.large"], minSize: 1, desiredSize: 1, maxSize: 2, taints: [{ key: "dedicated team", value: "x", effect: "NoSchedule" }, { key: "ok", value: "-bad-", effect: "NoExecute" }] }],
    }, [
        `kaws:workerPools[0].taints[0].key: "dedicated team" is not a valid taint key; accepted: [prefix/]name, the name of at most 63 characters (letters, digits, '-', '_', '.'), the prefix a DNS subdomain`,
        `kaws:workerPools[0].taints[1].value: "-bad-" is not a valid taint value; accepted: at most 63 characters (letters, digits, '-', '_', '.'), starting and ending with a letter or digit, or empty`,
    ]],
    ["a worker pool newer than the control plane", "dev", { workerPools: poolsWithVersion("1.37.0") }, [
        `kaws:workerPools[1].kubernetesVersion: "1.37.0" is newer than kaws:kubernetesVersion "1.36.4"; accepted: 1.36.4 | 1.35.9 ${skewRule}`,
    ]],
    ["a worker pool at a supported release newer than the control plane's", "dev", { kubernetesVersion: "1.35.9", workerPools: poolsWithVersion("1.36.4") }, [
        `kaws:workerPools[1].kubernetesVersion: "1.36.4" is newer than kaws:kubernetesVersion "1.35.9"; accepted: 1.35.9 ${skewRule}`,
    ]],
    ["a worker pool at a newer patch of the control plane's minor", "dev", { workerPools: poolsWithVersion("1.36.5") }, [
        `kaws:workerPools[1].kubernetesVersion: "1.36.5" is newer than kaws:kubernetesVersion "1.36.4"; accepted: 1.36.4 | 1.35.9 ${skewRule}`,
    ]],
    ["a worker pool at a newer two-digit patch (compared as numbers, not text)", "dev", { kubernetesVersion: "1.35.9", workerPools: poolsWithVersion("1.35.10") }, [
        `kaws:workerPools[1].kubernetesVersion: "1.35.10" is newer than kaws:kubernetesVersion "1.35.9"; accepted: 1.35.9 ${skewRule}`,
    ]],
    // No supported release is more than three minors older than another, so this pool version is also
    // unsupported: the skew problem is the one reported (plan/versionSkew.test.ts covers the rule itself).
    ["a worker pool more than three minors older than the control plane", "dev", { workerPools: poolsWithVersion("1.32.7") }, [
        `kaws:workerPools[1].kubernetesVersion: "1.32.7" is 4 minor versions older than kaws:kubernetesVersion "1.36.4", more than the 3 the Kubernetes version skew policy allows a kubelet; accepted: 1.36.4 | 1.35.9 ${skewRule}`,
    ]],
    ["a worker pool at an unsupported release within the skew", "dev", { workerPools: poolsWithVersion("1.35.1") }, [
        `kaws:workerPools[1].kubernetesVersion: "1.35.1" is not a supported release; accepted: 1.36.4 | 1.35.9 ${skewRule}`,
    ]],
    ["a worker pool version that is not a version", "dev", { workerPools: poolsWithVersion("v1.35.9") }, [
        'kaws:workerPools[1].kubernetesVersion: "v1.35.9" is malformed; accepted: values matching ^\\d+\\.\\d+\\.\\d+$',
    ]],
    ["an unsupported control plane with an unsupported worker pool version", "dev", { kubernetesVersion: "1.30.0", workerPools: poolsWithVersion("1.29.0") }, [
        'kaws:kubernetesVersion: "1.30.0" is not allowed; accepted: 1.36.4 | 1.35.9',
        'kaws:workerPools[1].kubernetesVersion: "1.29.0" is not a supported release; accepted: 1.36.4 | 1.35.9',
    ]],
    ["a misspelt namespace", "dev", { "kawz:etcdMembers": 3 }, ['kawz:etcdMembers: unknown namespace "kawz"; accepted: kaws:<key>, aws:<key>, pulumi:<key>']],
    ["a prod API open to the internet in two halves", "prod", { apiAccess: "internet-facing", apiAllowedCidrs: ["0.0.0.0/1", "128.0.0.0/1"] }, [
        'kaws:apiAllowedCidrs: ["0.0.0.0/1","128.0.0.0/1"] together cover every IPv4 address, opening the API of a prod cluster to the whole internet; accepted: specific CIDRs, or apiAccess "internal"',
    ]],
    ["no NAT without a pre-baked image", "dev", { natGateways: "none" }, [
        'kaws:natGateways: "none" leaves nodes no way to download packages, binaries or images; accepted: perAz | single | instance, or set kaws:imageId to a pre-baked AMI that holds them',
    ]],
    ["a cluster name another stack uses", "dev", { clusterName: "kaws-prod" }, [
        'kaws:clusterName: "kaws-prod" is also the cluster name of stack prod (Pulumi.prod.yaml); accepted: a name no other stack of this repository uses',
    ]],
    ["an unknown instance type", "dev", { etcdInstanceType: "t3.superhuge" }, [
        'kaws:etcdInstanceType: "t3.superhuge" is not an EC2 instance type (pinned list of 2026-01-22); accepted: a type such as m7i.large, m7g.large, t3.medium',
    ]],
    ["an unknown region", "dev", { "aws:region": "eu-west-9" }, [
        'aws:region: "eu-west-9" is not an AWS region (pinned list of 2026-11-10); accepted: one of the 48 AWS regions, e.g. eu-west-1, us-east-1',
    ]],
    ["worker pool sizes out of order", "dev", {
        workerPools: [{ name: "general", instanceTypes: ["m7i.large"], minSize: 3, desiredSize: 2, maxSize: 5 }],
    }, ["kaws:workerPools[0]: minSize 3, desiredSize 2, maxSize 5 are out of order; accepted: minSize <= desiredSize <= maxSize"]],
    ["worker pool mixing architectures", "dev", {
        workerPools: [{ name: "general", instanceTypes: ["m7i.large", "m7g.large"], minSize: 1, desiredSize: 1, maxSize: 2 }],
    }, ['kaws:workerPools[0].instanceTypes: ["m7i.large","m7g.large"] mixes arm64 and x86_64; accepted: instance types of one architecture per pool']],
    ["worker pool missing its sizes", "dev", {
        workerPools: [{ name: "general", instanceTypes: ["m7i.large"], minSize: 1, desiredSize: 1 }],
    }, ["kaws:workerPools[0].maxSize: is required; accepted: an integer from 1 to 1000"]],
    ["allowed API CIDR that is not a CIDR", "dev", { apiAllowedCidrs: ["10.0.0.0/33"] }, ['kaws:apiAllowedCidrs[0]: "10.0.0.0/33" is not a CIDR network address; accepted: a.b.c.d/n with no host bits set']],
    ["internet-facing API with no allowed CIDR", "dev", { apiAccess: "internet-facing" }, ['kaws:apiAllowedCidrs: is empty but kaws:apiAccess is "internet-facing"; accepted: at least one CIDR allowed to reach the API']],
    ["prod API open to the whole internet", "prod", { apiAccess: "internet-facing", apiAllowedCidrs: ["0.0.0.0/0"] }, ['kaws:apiAllowedCidrs[0]: "0.0.0.0/0" opens the API of a prod cluster to the whole internet; accepted: specific CIDRs, or apiAccess "internal"']],
    ["API name that is not a DNS name", "dev", { apiAccess: "internet-facing", apiAllowedCidrs: ["203.0.113.0/24"], apiDnsName: "https://API.example.com" }, [
        'kaws:apiDnsName: "https://API.example.com" is not a DNS name; accepted: a lower-case name of at least two labels such as api.example.com (a-z, 0-9, "-", at most 253 characters)',
    ]],
    ["API name of a single label", "dev", { apiAccess: "internet-facing", apiAllowedCidrs: ["203.0.113.0/24"], apiDnsName: "api" }, [
        'kaws:apiDnsName: "api" is not a DNS name; accepted: a lower-case name of at least two labels such as api.example.com (a-z, 0-9, "-", at most 253 characters)',
    ]],
    ["API name for an internal API", "dev", { apiDnsName: "api.example.com" }, [
        'kaws:apiDnsName: is set but kaws:apiAccess is "internal", whose API is always api.<clusterName>.internal; accepted: unset, or apiAccess "internet-facing"',
    ]],
    ["misspelled key", "dev", { azcount: 2 }, ["kaws:azcount: is not a known key; accepted: the keys in README.md's configuration table (did you mean kaws:azCount?)"]],
    ["missing region", "dev", { "aws:region": undefined }, ["aws:region: is required; set it in Pulumi.<stack>.yaml, e.g. aws:region: eu-west-1"]],
    ["leaf certificates outliving their CA", "dev", { leafValidityHours: 100000 }, ["kaws:leafValidityHours: 100000 is not shorter than kaws:caValidityHours 87600; accepted: less than the CA lifetime"]],
    ["several problems at once, each on its own line", "prod", { azCount: 1, etcdMembers: 4, natGateways: "many" }, [
        "kaws:natGateways: \"many\" is not allowed; accepted: perAz | single | instance | none",
        "kaws:etcdMembers: 4 is not allowed; accepted: 1 | 3 | 5 | 7",
        'kaws:azCount: 1 is too few for environment "prod"; accepted: 3 to 6',
    ]],
];

describe("configuration validation", () => {
    for (const [what, env, overrides, expected] of badConfigs) {
        it(`rejects ${what} before creating any resource`, async () => {
            const failure = await evaluate(env, overrides).then(() => undefined, (err) => err);
            expect(failure, "evaluation should fail").to.be.instanceOf(EvaluationError);
            expect(failure.cause).to.be.instanceOf(ConfigError);
            expect([...failure.cause.problems].sort()).to.deep.equal([...expected].sort());
            for (const line of failure.message.split("\n").slice(1)) expect(line).to.not.include("\n");
            expect(failure.resources, "resources registered before the error").to.deep.equal([]);
        });
    }

    it("reports every rule a valid-shaped prod config breaks in one error", () => {
        const config = loadStackConfig(root, "prod");
        config["kaws:azCount"] = "2";
        config["kaws:etcdMembers"] = "1";
        config["kaws:controlPlaneCount"] = "1";
        expect(() => parseClusterConfig(config)).to.throw(ConfigError).that.satisfies((err: ConfigError) => err.problems.length === 3);
    });

    it("turns the committed dev and prod stacks into typed configs with pool defaults filled in", () => {
        const dev = parseClusterConfig(loadStackConfig(root, "dev"));
        expect(dev.network.azCount).to.equal(1);
        expect(dev.etcd.members).to.equal(1);
        expect(dev.workerPools[0]).to.include({ name: "general", rootVolumeSizeGiB: 20, podsNeedImds: false });
        expect(dev.workerPools[0].taints).to.deep.equal([]);
        const prod = parseClusterConfig(loadStackConfig(root, "prod"));
        expect(prod.environment).to.equal("prod");
        expect(prod.network.natGateways).to.equal("perAz");
        expect(prod.workerPools.map((p) => p.name)).to.deep.equal(["general", "system"]);
        expect(prod.workerPools[0].rootVolumeSizeGiB, "the pool default").to.equal(50);
        expect(prod.workerPools[1].taints[0]).to.deep.equal({ key: "kaws.io/system", value: "true", effect: "NoSchedule" });
    });

    it("keeps a numeric-looking cluster name as text", () => {
        const config = loadStackConfig(root, "dev");
        config["kaws:clusterName"] = "123";
        expect(() => parseClusterConfig(config)).to.throw(ConfigError, 'kaws:clusterName: "123" is not allowed');
    });
});
