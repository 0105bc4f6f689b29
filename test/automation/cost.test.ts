import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as os from "os";
import { Evaluation, RecordedResource, evaluateStack } from "../../automation/offline/engine";
import { loadStackConfig } from "../../automation/stackConfig";
import { CostError, CostReport, formatCost, loadPrices, priceStack, pricedRegions } from "../../automation/cost";
import { renderEtcdSnapshotScript } from "../../etcd/render";

const root = `${__dirname}/../..`;

function resource(type: string, name: string, inputs: Record<string, any>): RecordedResource {
    return { type, name, urn: `urn:pulumi:test::kaws::${type}::${name}`, custom: true, inputs };
}

function launchTemplate(name: string, instanceType: string | undefined, rootGiB: number): RecordedResource {
    return resource("aws:ec2/launchTemplate:LaunchTemplate", name, {
        ...(instanceType ? { instanceType } : {}),
        blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: rootGiB, volumeType: "gp3" } }],
    });
}

/** One ASG of 2 × type (50 GiB gp3 root), one NAT gateway (AWS-assigned address), one internal NLB, one KMS key. */
function smallStack(type: string): Evaluation {
    return {
        outputs: {},
        resources: [
            launchTemplate("lt", type, 50),
            resource("aws:autoscaling/group:Group", "pool", { name: "pool", desiredCapacity: 2, minSize: 1, maxSize: 10, launchTemplate: { id: "placeholder-lt", version: "1" } }),
            resource("aws:ec2/natGateway:NatGateway", "nat", { subnetId: "placeholder-public-0" }),
            resource("aws:lb/loadBalancer:LoadBalancer", "api", { loadBalancerType: "network", internal: true, subnets: ["placeholder-private-0"] }),
            resource("aws:kms/key:Key", "key", { enableKeyRotation: false }),
        ],
    };
}

const lineFor = (report: CostReport, resourceRef: string) => report.lines.filter((l) => l.resource === resourceRef);

describe("cost from the evaluated graph", () => {
    const prices = loadPrices("us-east-1");

    it("prices a hand-built stack to the hand computation from the price file", () => {
        const type = "m7i.large";
        const h = prices.hoursPerMonth;
        const a = prices.assumptions;
        const expected =
            2 * prices.instances[type] * h // two instances
            + 2 * 50 * prices.ebs.gp3 // their 50 GiB gp3 roots
            + prices.natGateway!.hourly * h + a.natGatewayGBPerMonth * prices.natGateway!.perGB // NAT gateway and its assumed data
            + prices.publicIpv4! * h // the NAT gateway's public address
            + prices.nlb!.hourly * h + a.nlbLcuPerHour * h * prices.nlb!.perLcuHour // NLB and its assumed LCUs
            + prices.kmsKey!; // one key
        const report = priceStack(smallStack(type), prices);
        expect(report.total).to.be.closeTo(expected, 1e-9);
        expect(report.assumptions.join("\n")).to.match(/GB processed per NAT gateway/).and.match(/LCU per hour/);
        const table = formatCost(report);
        expect(table).to.match(/^total\s+\S+/m).and.include(report.total.toFixed(2)).and.include("Assumptions:");
    });

    it("prices an instance outside any group with its root volume, and names a missing price", () => {
        const nat = resource("aws:ec2/instance:Instance", "nat", { instanceType: "t4g.nano", rootBlockDevice: { volumeSize: 8, volumeType: "gp3" }, monitoring: false });
        const report = priceStack({ outputs: {}, resources: [nat] }, prices);
        expect(report.total).to.be.closeTo(prices.instances["t4g.nano"] * prices.hoursPerMonth + 8 * prices.ebs.gp3, 1e-9);
        const unpriced = resource("aws:ec2/instance:Instance", "odd", { instanceType: "x9z.huge" });
        expect(() => priceStack({ outputs: {}, resources: [unpriced] }, prices)).to.throw(CostError, "instances.x9z.huge");
    });

    it("prices one snapshot series for the cluster when every member uploads only while it leads, one per member otherwise", () => {
        const member = (i: number, script: string): RecordedResource[] => [
            resource("aws:s3/bucketObjectv2:BucketObjectv2", `timer-${i}`, { key: `nodes/etcd-${i}/etc/systemd/system/kaws-etcd-snapshot.timer`, content: "[Timer]\nOnUnitActiveSec=60min\n" }),
            resource("aws:s3/bucketObjectv2:BucketObjectv2", `env-${i}`, { key: `nodes/etcd-${i}/etc/etcd/etcd.env`, content: `ETCD_QUOTA_BACKEND_BYTES=${2 * 1024 ** 3}\n` }),
            resource("aws:s3/bucketObjectv2:BucketObjectv2", `script-${i}`, { key: `nodes/etcd-${i}/usr/local/sbin/kaws-etcd-snapshot`, content: script }),
        ];
        const stack = (script: string): Evaluation => ({
            outputs: {},
            resources: [
                resource("aws:s3/bucketV2:BucketV2", "assets", {}),
                resource("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "lifecycle", { rules: [{ id: "snapshots", status: "Enabled", filter: { prefix: "backups/etcd/" }, expiration: { days: 1 } }] }),
                ...[0, 1, 2].flatMap((i) => member(i, script)),
            ],
        });
        const snapshotLines = (ev: Evaluation) => priceStack(ev, prices).lines.filter((l) => l.item.startsWith("etcd snapshots"));
        const gated = snapshotLines(stack(renderEtcdSnapshotScript({ member: "etcd-0", bucket: "b", region: "us-east-1", kmsKeyArn: "k", prefix: "backups/etcd/" })));
        expect(gated.map((l) => l.quantity)).to.deep.equal([24 * 2]);
        const everyMember = snapshotLines(stack("#!/bin/bash\netcdctl snapshot save x\n"));
        expect(everyMember.map((l) => l.quantity)).to.deep.equal([48, 48, 48]);
    });

    it("splits a mixed-instances group into on-demand and spot at the first override", () => {
        const evaluation: Evaluation = {
            outputs: {},
            resources: [
                launchTemplate("wlt", undefined, 20),
                resource("aws:autoscaling/group:Group", "workers", {
                    name: "workers", desiredCapacity: 5, minSize: 1, maxSize: 300,
                    mixedInstancesPolicy: {
                        instancesDistribution: { onDemandAllocationStrategy: "prioritized", onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 50 },
                        launchTemplate: { launchTemplateSpecification: { launchTemplateId: "placeholder-wlt" }, overrides: [{ instanceType: "m7i.xlarge" }, { instanceType: "m6i.xlarge" }] },
                    },
                }),
            ],
        };
        const report = priceStack(evaluation, prices);
        const od = prices.instances["m7i.xlarge"] * prices.hoursPerMonth;
        const onDemand = report.lines.find((l) => l.item.includes("on-demand"))!;
        const spot = report.lines.find((l) => l.item.includes("spot"))!;
        // base 1, then 50 % of the other 4 on demand: 3 on-demand, 2 spot.
        expect(onDemand.quantity).to.equal(3);
        expect(onDemand.unitPrice).to.be.closeTo(od, 1e-9);
        expect(spot.quantity).to.equal(2);
        expect(spot.unitPrice).to.be.closeTo(od * (1 - prices.spotDiscount!), 1e-9);
        expect(spot.assumption).to.match(/spotDiscount/);
        expect(report.lines.find((l) => l.item.startsWith("root volumes"))!.quantity).to.equal(5 * 20);
    });

    it("a partial report lists what it cannot price and totals only the rest, never pricing anything at zero", () => {
        const report = priceStack(smallStack("m7i.metal-48xl"), prices, {}, { partial: true });
        expect(report.missingPrices).to.deep.equal(["instances.m7i.metal-48xl"]);
        expect(report.unpriced!.map((u) => u.item).join()).to.contain("m7i.metal-48xl");
        expect(report.lines.filter((l) => l.unitPrice === 0)).to.deep.equal([]);
        expect(report.total).to.be.closeTo(report.lines.reduce((sum, l) => sum + l.monthly, 0), 1e-9);
        const complete = priceStack(smallStack("m7i.xlarge"), prices);
        expect(report.total).to.be.lessThan(complete.total);
        expect(complete.unpriced).to.equal(undefined);
        const table = formatCost(report);
        expect(table).to.match(/^total of the priced items \(at least\)/m).and.include("Not priced: plan/prices/us-east-1.json has no price for instances.m7i.metal-48xl");
    });

    it("refuses a price file with a zero or negative price (a missing price is left out, not 0)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-prices-"));
        try {
            fs.writeFileSync(path.join(dir, "us-east-1.json"), JSON.stringify({ ...prices, instances: { ...prices.instances, "t3.small": 0 } }));
            expect(() => loadPrices("us-east-1", dir)).to.throw(CostError, /prices must be positive.*instances\.t3\.small/);
            fs.writeFileSync(path.join(dir, "us-east-1.json"), JSON.stringify(prices));
            expect(loadPrices("us-east-1", dir).instances["t3.small"]).to.be.greaterThan(0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses an instance type without a price and an unknown region in one line naming them", () => {
        const missing = () => priceStack(smallStack("m7i.metal-48xl"), prices);
        expect(missing).to.throw(CostError, /instances\.m7i\.metal-48xl/);
        try { missing(); } catch (e) { expect((e as Error).message).to.not.include("\n"); }
        expect(() => loadPrices("xx-nowhere-1")).to.throw(CostError, /xx-nowhere-1/);
        try { loadPrices("xx-nowhere-1"); } catch (e) { expect((e as Error).message).to.not.include("\n"); }
        expect(pricedRegions()).to.include.members(["us-east-1", "eu-west-1", "eu-central-1"]);
    });

    describe("the committed stacks", function () {
        this.timeout(60000);
        const evaluations: Record<string, Evaluation> = {};
        const configs: Record<string, Record<string, string>> = {};
        before(async () => {
            for (const env of ["dev", "prod"]) {
                configs[env] = loadStackConfig(root, env);
                evaluations[env] = await evaluateStack({ root, stack: env, config: configs[env] });
            }
        });

        for (const env of ["dev", "prod"]) {
            it(`${env}: every ASG, NAT gateway, load balancer and volume has a line item`, () => {
                const report = priceStack(evaluations[env], prices);
                const billable = evaluations[env].resources.filter((r) => r.custom && [
                    "aws:autoscaling/group:Group", "aws:ec2/natGateway:NatGateway", "aws:lb/loadBalancer:LoadBalancer", "aws:ebs/volume:Volume",
                ].includes(r.type));
                expect(billable.length).to.be.greaterThan(3);
                const covered = billable.filter((r) => lineFor(report, `${r.type}::${r.name}`).length > 0);
                expect(covered.map((r) => r.name)).to.deep.equal(billable.map((r) => r.name));
                expect(report.total).to.be.greaterThan(0);
            });

            it(`${env}: its own region either prices it or names every missing price in one line; partially, it prices all the rest`, () => {
                const region = configs[env]["aws:region"];
                const own = loadPrices(region);
                let strictError: Error | undefined;
                try {
                    expect(priceStack(evaluations[env], own).total).to.be.greaterThan(0);
                } catch (e) {
                    expect(e).to.be.instanceOf(CostError);
                    expect((e as Error).message).to.include(`plan/prices/${region}.json has no price for:`).and.not.include("\n");
                    strictError = e as Error;
                }
                const partial = priceStack(evaluations[env], own, {}, { partial: true });
                expect(partial.total).to.be.greaterThan(0);
                expect(Boolean(partial.unpriced), "partial exactly when the strict report is refused").to.equal(Boolean(strictError));
                if (strictError) {
                    for (const key of partial.missingPrices!) expect(strictError.message).to.include(key);
                    // Everything priced in the full report (us-east-1) is either priced here or listed as unpriced.
                    const full = priceStack(evaluations[env], prices);
                    expect(partial.lines.length + partial.unpriced!.length).to.equal(full.lines.length);
                }
            });
        }

        it("dev costs at most $60 a month in us-east-1, all-in, from the committed price data", () => {
            const report = priceStack(evaluations.dev, prices);
            expect(report.total).to.be.at.most(60);
            // All-in: every billable kind the dev stack has is on the bill, the NAT instance included.
            const kinds = new Set(report.lines.map((l) => l.resource.split("::")[0]));
            expect([...kinds]).to.include.members(["aws:autoscaling/group:Group", "aws:ec2/instance:Instance", "aws:ec2/eip:Eip", "aws:lb/loadBalancer:LoadBalancer", "aws:ebs/volume:Volume", "aws:kms/key:Key", "aws:route53/zone:Zone"]);
            expect(report.lines.some((l) => l.item.startsWith("etcd snapshots"))).to.equal(true);
            expect(report.lines.some((l) => l.item.includes("NAT gateway")), "dev runs a NAT instance, not a gateway").to.equal(false);
        });

        it("README's cost table shows the totals the model computes for the committed stacks", () => {
            const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
            const row = /^\| \*\*total per month\*\* \| \*\*\$([\d,.]+)\*\* \| \*\*\$([\d,.]+)\*\* \|$/m.exec(readme);
            expect(row, "the total row of README's cost table").to.not.equal(null);
            const shown = (text: string) => Number(text.replace(/,/g, ""));
            expect(shown(row![1])).to.be.closeTo(priceStack(evaluations.dev, prices).total, 0.005);
            expect(shown(row![2])).to.be.closeTo(priceStack(evaluations.prod, prices).total, 0.005);
        });

        it("prod keeps full HA: a NAT gateway per AZ, three etcd members and three control-plane nodes on the bill", () => {
            const report = priceStack(evaluations.prod, prices);
            expect(report.lines.filter((l) => /^NAT gateway \S+$/.test(l.item))).to.have.length(3);
            expect(report.lines.filter((l) => /^instances kaws-prod-etcd-\d/.test(l.item)).map((l) => l.quantity)).to.deep.equal([1, 1, 1]);
            expect(report.lines.find((l) => l.item.startsWith("instances kaws-prod-controlplane"))!.quantity).to.equal(3);
        });

        it("a pool's resources and instance line follow desiredSize, not maxSize (3 vs 300)", async () => {
            const pools = JSON.parse(configs.dev["kaws:workerPools"]);
            expect(pools[0].maxSize).to.equal(3);
            const config = { ...configs.dev, "kaws:workerPools": JSON.stringify(pools.map((p: any) => ({ ...p, maxSize: 300 }))) };
            const wide = await evaluateStack({ root, stack: "dev", config });
            expect(wide.resources.length).to.equal(evaluations.dev.resources.length);
            const poolLine = (evaluation: Evaluation) => priceStack(evaluation, prices).lines.filter((l) => l.item.startsWith("instances kaws-dev-worker-general"));
            expect(poolLine(wide)).to.deep.equal(poolLine(evaluations.dev));

            const more: Evaluation = {
                ...evaluations.dev,
                resources: evaluations.dev.resources.map((r) => r.type === "aws:autoscaling/group:Group" && r.inputs.name === "kaws-dev-worker-general"
                    ? { ...r, inputs: { ...r.inputs, desiredCapacity: 2 } } : r),
            };
            const [before] = poolLine(evaluations.dev);
            const [after] = poolLine(more);
            expect(after.quantity).to.equal(2 * before.quantity);
            expect(after.monthly).to.be.closeTo(2 * before.monthly, 1e-9);
        });
    });
});
