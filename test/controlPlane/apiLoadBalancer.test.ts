import { expect } from "chai";
import { evaluateStack, Evaluation } from "../../automation/offline/engine";
import { loadStackConfig } from "../../automation/stackConfig";
import { evaluate, ofType, root } from "../harness";

/** NAT gateway public IPs are computed by AWS; the offline engine is told what they would be. */
const natIp = (name: string) => `198.51.100.${1 + Number(name.split("-").pop())}`;

describe("ApiLoadBalancer", function () {
    this.timeout(60_000);
    let internal: Evaluation;
    let internetFacing: Evaluation;
    before(async () => {
        internal = await evaluate("dev");
        const config = loadStackConfig(root, "dev");
        config["kaws:apiAccess"] = "internet-facing";
        config["kaws:apiAllowedCidrs"] = JSON.stringify(["203.0.113.0/24"]);
        internetFacing = await evaluateStack({
            root, stack: "dev", config,
            computers: [(type, name) => (type === "aws:ec2/natGateway:NatGateway" ? { publicIp: natIp(name) } : undefined)],
        });
    });

    const apiSecurityGroup = (ev: Evaluation) => ofType(ev, "aws:ec2/securityGroup:SecurityGroup").find((sg) => /Kubernetes API load balancer/.test(sg.inputs.description))!;

    it("health-checks the API over HTTPS /readyz on 6443 and forwards TCP 6443 across zones", () => {
        const targetGroup = ofType(internal, "aws:lb/targetGroup:TargetGroup")[0];
        expect(targetGroup.inputs.healthCheck).to.include({ protocol: "HTTPS", path: "/readyz", port: "6443", matcher: "200" });
        const lb = ofType(internal, "aws:lb/loadBalancer:LoadBalancer")[0];
        expect(lb.inputs).to.include({ loadBalancerType: "network", internal: true, enableCrossZoneLoadBalancing: true });
        expect(ofType(internal, "aws:lb/listener:Listener")[0].inputs).to.include({ port: 6443, protocol: "TCP" });
    });

    it("internal: admits only the VPC range (no NAT rule is needed)", () => {
        const ingress = apiSecurityGroup(internal).inputs.ingress;
        expect(ingress.flatMap((r: { cidrBlocks: string[] }) => r.cidrBlocks)).to.deep.equal([loadStackConfig(root, "dev")["kaws:vpcCidr"]]);
    });

    it("internet-facing: admits the allowed CIDRs and the nodes' NAT addresses, nothing else", () => {
        const lb = ofType(internetFacing, "aws:lb/loadBalancer:LoadBalancer")[0];
        expect(lb.inputs.internal).to.equal(false);
        const cidrs = apiSecurityGroup(internetFacing).inputs.ingress.flatMap((r: { cidrBlocks: string[] }) => r.cidrBlocks).sort();
        const nats = ofType(internetFacing, "aws:ec2/natGateway:NatGateway").map((n) => `${natIp(n.name)}/32`);
        expect(nats).to.have.length.greaterThan(0);
        expect(cidrs).to.deep.equal([...nats, "10.0.0.0/16", "203.0.113.0/24"].sort());
        expect(cidrs).to.not.include("0.0.0.0/0");
    });
});
