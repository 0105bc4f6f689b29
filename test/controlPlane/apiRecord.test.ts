import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { apiRecordPaths, renderApiRecordScript, renderApiRecordTimer, renderApiRecordUnit } from "../../controlPlane/apiRecord";
import { controlPlaneBootSteps } from "../../controlPlane/markControlPlane";
import { parseClusterConfig } from "../../plan/config";
import { planCluster } from "../../plan/cluster";
import { Moto, startMoto } from "../moto";
import { toolAvailable } from "../tools";
import { verifyUnits } from "../systemdVerify";
import { withHeaderValues } from "../shellHeader";
import { root } from "../harness";
import { loadStackConfig } from "../../automation/stackConfig";

const plan = planCluster(parseClusterConfig(loadStackConfig(root, "dev")));

describe("kaws-api-record (controlPlane/api-record.sh): the nodes' API name kept by the control-plane nodes", function () {
    it("runs at boot once kubelet runs, and again from its timer; the units pass systemd-analyze verify", function () {
        expect(controlPlaneBootSteps.startAfterKubelet).to.include.members([path.basename(apiRecordPaths.unit), path.basename(apiRecordPaths.timer)]);
        if (!toolAvailable("systemd-analyze", this, ["--version"])) return;
        expect(verifyUnits({ "kaws-api-record.service": renderApiRecordUnit(), "kaws-api-record.timer": renderApiRecordTimer() })).to.deep.equal([]);
    });

    it("passes shellcheck", function () {
        if (!toolAvailable("shellcheck", this, ["--version"])) return;
        const file = path.join(fs.mkdtempSync("/tmp/kaws-api-record-"), "script.sh");
        fs.writeFileSync(file, renderApiRecordScript(plan, "Z0TESTZONE"));
        const result = spawnSync("shellcheck", ["-S", "style", file], { encoding: "utf8" });
        expect(result.status, result.stdout).to.equal(0);
    });

    /**
     * The rendered script run with the real AWS CLI against moto_server: an Auto Scaling group of the plan's
     * control-plane name with instances, the private zone with the stack's weight-0 fallback beside it.
     */
    describe("run with the AWS CLI against moto_server", function () {
        this.timeout(120000);
        let moto: Moto;
        let env: Record<string, string>;
        let zoneId = "";
        const group = `${plan.clusterName}-controlplane`;
        const aws = (...args: string[]) => {
            const result = spawnSync("aws", ["--region", plan.region, "--output", "json", ...args], { encoding: "utf8", env });
            if (result.status !== 0) throw new Error(`aws ${args.join(" ")}: ${result.stderr}`);
            return result.stdout ? JSON.parse(result.stdout) : undefined;
        };
        const runScript = () => {
            const script = path.join(moto.work, "kaws-api-record");
            fs.writeFileSync(script, renderApiRecordScript(plan, zoneId));
            return spawnSync("bash", [script], { encoding: "utf8", env });
        };
        const recordSets = () => aws("route53", "list-resource-record-sets", "--hosted-zone-id", zoneId).ResourceRecordSets
            .filter((r: any) => r.Name === `${plan.nodeApi.dnsName}.`);
        const inServiceIps = () => {
            const ids = aws("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", group).AutoScalingGroups[0].Instances
                .filter((i: any) => i.LifecycleState === "InService").map((i: any) => i.InstanceId);
            return aws("ec2", "describe-instances", "--instance-ids", ...ids).Reservations.flatMap((r: any) => r.Instances.map((i: any) => i.PrivateIpAddress)).sort();
        };

        before(async function () {
            if (!toolAvailable("moto_server", this, ["--help"]) || !toolAvailable("aws", this, ["--version"])) return this.skip();
            moto = await startMoto(this);
            env = { ...process.env as Record<string, string>, AWS_ENDPOINT_URL: moto.url, HOME: moto.work };
            const vpc = aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16").Vpc.VpcId;
            const subnet = aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.32.0/19", "--availability-zone", `${plan.region}a`).Subnet.SubnetId;
            const image = aws("ec2", "describe-images", "--owners", "amazon", "--query", "Images[0].ImageId");
            aws("ec2", "create-launch-template", "--launch-template-name", group, "--launch-template-data", JSON.stringify({ ImageId: image, InstanceType: "t3.small" }));
            aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", group, "--launch-template", `LaunchTemplateName=${group}`,
                "--min-size", "0", "--max-size", "4", "--desired-capacity", "3", "--vpc-zone-identifier", subnet);
            zoneId = aws("route53", "create-hosted-zone", "--name", plan.etcd.domain, "--caller-reference", "kaws-test", "--vpc", `VPCRegion=${plan.region},VPCId=${vpc}`,
                "--hosted-zone-config", "PrivateZone=true").HostedZone.Id.replace("/hostedzone/", "");
            // The stack's placeholder: the script must leave it alone.
            aws("route53", "change-resource-record-sets", "--hosted-zone-id", zoneId, "--change-batch", JSON.stringify({
                Changes: [{ Action: "CREATE", ResourceRecordSet: { Name: plan.nodeApi.dnsName, Type: "A", SetIdentifier: plan.nodeApi.placeholderSetIdentifier, Weight: 0, TTL: plan.nodeApi.placeholderTtlSeconds, ResourceRecords: [{ Value: plan.nodeApi.placeholderAddress }] } }],
            }));
        });

        after(() => moto?.stop());

        it("writes the in-service instances' addresses as the nodes' weighted set (weight 1, the plan's TTL) and leaves the placeholder; then changes nothing while they match, and follows the group when an instance leaves", () => {
            const first = runScript();
            expect(first.status, first.stderr).to.equal(0);
            expect(first.stdout).to.contain(`${plan.nodeApi.dnsName} -> `);
            const ips = inServiceIps();
            expect(ips).to.have.length(3);
            const sets = recordSets();
            const nodes = sets.find((r: any) => r.SetIdentifier === plan.nodeApi.nodesSetIdentifier);
            expect({ weight: nodes.Weight, ttl: nodes.TTL, values: nodes.ResourceRecords.map((r: any) => r.Value).sort() })
                .to.deep.equal({ weight: 1, ttl: plan.nodeApi.ttlSeconds, values: ips });
            expect(sets.find((r: any) => r.SetIdentifier === plan.nodeApi.placeholderSetIdentifier).ResourceRecords).to.deep.equal([{ Value: plan.nodeApi.placeholderAddress }]);

            const again = runScript();
            expect(again.status, again.stderr).to.equal(0);
            expect(again.stdout, "no change written").to.equal("");

            const leaving = aws("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", group).AutoScalingGroups[0].Instances[0].InstanceId;
            aws("autoscaling", "terminate-instance-in-auto-scaling-group", "--instance-id", leaving, "--should-decrement-desired-capacity");
            const after = runScript();
            expect(after.status, after.stderr).to.equal(0);
            const values = recordSets().find((r: any) => r.SetIdentifier === plan.nodeApi.nodesSetIdentifier).ResourceRecords.map((r: any) => r.Value).sort();
            const remaining = inServiceIps();
            expect(remaining).to.have.length(2);
            expect(values).to.deep.equal(remaining);
        });
    });

    /** The script with an `aws` on PATH that answers what the group holds (no AWS, no moto). */
    function runWithAnswers(answers: { group: string; instances: string }) {
        const dir = fs.mkdtempSync("/tmp/kaws-api-record-");
        fs.mkdirSync(`${dir}/bin`);
        fs.writeFileSync(`${dir}/bin/aws`, `#!/bin/bash\nprintf '%s\\n' "$*" >> ${dir}/calls\ncase "$*" in *describe-auto-scaling-groups*) echo '${answers.group}' ;; *describe-instances*) echo '${answers.instances}' ;; esac\n`, { mode: 0o755 });
        fs.writeFileSync(`${dir}/script.sh`, withHeaderValues(renderApiRecordScript(plan, "Z0TESTZONE"), {}));
        const result = spawnSync("bash", [`${dir}/script.sh`], { encoding: "utf8", env: { PATH: `${dir}/bin:${process.env.PATH}`, HOME: dir } });
        const calls = fs.existsSync(`${dir}/calls`) ? fs.readFileSync(`${dir}/calls`, "utf8").trim().split("\n") : [];
        fs.rmSync(dir, { recursive: true, force: true });
        return { ...result, calls };
    }

    it("writes nothing while no instance is in service (the CLI prints None), and refuses an address that is not one", () => {
        const none = runWithAnswers({ group: "None", instances: "" });
        expect(none.status, none.stderr).to.equal(0);
        expect(none.stdout).to.contain("is in service yet");
        expect(none.calls.filter((c) => c.includes("route53"))).to.deep.equal([]);
        const bad = runWithAnswers({ group: "i-0abc", instances: "10.0.0.1;rm" });
        expect(bad.status).to.equal(1);
        expect(bad.stderr).to.contain("not an IPv4 address: 10.0.0.1;rm");
        expect(bad.calls.filter((c) => c.includes("change-resource-record-sets"))).to.deep.equal([]);
    });
});
