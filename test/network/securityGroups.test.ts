import { expect } from "chai";
import { Netmask } from "netmask";
import { Evaluation, RecordedResource } from "../../automation/offline/engine";
import { evaluate, idOf, named, ofType } from "../harness";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";

type Source = "lb" | "etcd" | "controlplane" | "workers";

/** Does a rule admit `protocol`/`port` (port ignored for protocols without ports)? */
function covers(rule: RecordedResource, protocol: string, port?: number): boolean {
    const p = rule.inputs.ipProtocol;
    if (p === "-1") return true;
    if (p !== protocol) return false;
    if (port === undefined) return true;
    return rule.inputs.fromPort <= port && port <= rule.inputs.toPort;
}

/**
 * Whether a packet from an instance in group `from` to an instance in group `to` passes both groups:
 * the source's egress (by group reference or a CIDR holding the VPC) and the target's ingress.
 */
function reaches(ev: Evaluation, vpcCidr: string, from: string, to: string, protocol: string, port?: number): boolean {
    const vpc = new Netmask(vpcCidr);
    const inCidr = (cidr: string | undefined) => !!cidr && new Netmask(cidr).contains(vpc.base) && new Netmask(cidr).bitmask <= vpc.bitmask;
    const ingress = ofType(ev, INGRESS).some((r) => r.inputs.securityGroupId === to && r.inputs.referencedSecurityGroupId === from && covers(r, protocol, port));
    const egress = ofType(ev, EGRESS).some((r) => r.inputs.securityGroupId === from
        && (r.inputs.referencedSecurityGroupId === to || inCidr(r.inputs.cidrIpv4)) && covers(r, protocol, port));
    const lbEgress = named(ev, "kaws-dev-api-lb").inputs.egress.some((e: any) => e.cidrBlocks.includes(vpcCidr) && e.fromPort <= (port ?? 0) && (port ?? 0) <= e.toPort);
    return ingress && (from === idOf(named(ev, "kaws-dev-api-lb")) ? lbEgress : egress);
}

describe("SecurityGroups", () => {
    let ev: Evaluation;
    let ids: Record<Source, string>;
    const vpcCidr = "10.0.0.0/16";
    const sources: Source[] = ["lb", "etcd", "controlplane", "workers"];

    function who(protocol: string, port: number | undefined, target: Exclude<Source, "lb">): Source[] {
        return sources.filter((s) => reaches(ev, vpcCidr, ids[s], ids[target], protocol, port));
    }

    before(async () => {
        ev = await evaluate("dev");
        ids = {
            lb: idOf(named(ev, "kaws-dev-api-lb")),
            etcd: idOf(named(ev, "kaws-dev-etcd")),
            controlplane: idOf(named(ev, "kaws-dev-controlplane")),
            workers: idOf(named(ev, "kaws-dev-workers")),
        };
    });

    it("creates one group per node kind in the cluster VPC, with no inline rules", () => {
        const groups = ofType(ev, SG).filter((g) => ["kaws-dev-etcd", "kaws-dev-controlplane", "kaws-dev-workers"].includes(g.name));
        expect(groups).to.have.length(3);
        const vpcId = idOf(ofType(ev, "aws:ec2/vpc:Vpc")[0]);
        for (const g of groups) {
            expect(g.inputs.vpcId).to.equal(vpcId);
            expect(g.inputs.ingress ?? [], g.name).to.be.empty;
            expect(g.inputs.egress ?? [], g.name).to.be.empty;
        }
    });

    it("lets only the load balancer and Kubernetes nodes reach the API on 6443", () => {
        expect(who("tcp", 6443, "controlplane")).to.deep.equal(["lb", "controlplane", "workers"]);
        expect(who("tcp", 6443, "workers")).to.deep.equal([]);
        expect(who("tcp", 6443, "etcd")).to.deep.equal([]);
    });

    it("lets only the control plane reach kubelets on 10250", () => {
        expect(who("tcp", 10250, "controlplane")).to.deep.equal(["controlplane"]);
        expect(who("tcp", 10250, "workers")).to.deep.equal(["controlplane"]);
        expect(who("tcp", 10250, "etcd")).to.deep.equal([]);
    });

    it("lets the control plane and etcd members reach etcd clients on 2379, and only members reach 2380", () => {
        expect(who("tcp", 2379, "etcd")).to.deep.equal(["etcd", "controlplane"]);
        expect(who("tcp", 2380, "etcd")).to.deep.equal(["etcd"]);
        for (const target of ["controlplane", "workers"] as const) {
            expect(who("tcp", 2379, target)).to.deep.equal([]);
            expect(who("tcp", 2380, target)).to.deep.equal([]);
        }
    });

    it("opens weave (TCP 6783, UDP 6783-6784, ESP) between every pair of Kubernetes nodes and nothing else", () => {
        for (const target of ["controlplane", "workers"] as const) {
            expect(who("tcp", 6783, target), `tcp 6783 -> ${target}`).to.deep.equal(["controlplane", "workers"]);
            expect(who("udp", 6783, target), `udp 6783 -> ${target}`).to.deep.equal(["controlplane", "workers"]);
            expect(who("udp", 6784, target), `udp 6784 -> ${target}`).to.deep.equal(["controlplane", "workers"]);
            expect(who("50", undefined, target), `esp -> ${target}`).to.deep.equal(["controlplane", "workers"]);
            expect(who("udp", 6785, target), `udp 6785 -> ${target}`).to.deep.equal([]);
        }
        expect(who("tcp", 6783, "etcd")).to.deep.equal([]);
        expect(who("50", undefined, "etcd")).to.deep.equal([]);
    });

    it("admits nothing inbound from any CIDR, and nothing on SSH", () => {
        const ours = new Set([ids.etcd, ids.controlplane, ids.workers]);
        const ingress = ofType(ev, INGRESS).filter((r) => ours.has(r.inputs.securityGroupId));
        expect(ingress.length).to.be.greaterThan(10);
        for (const rule of ingress) {
            expect(rule.inputs.cidrIpv4, rule.name).to.equal(undefined);
            expect(rule.inputs.cidrIpv6, rule.name).to.equal(undefined);
            expect(rule.inputs.referencedSecurityGroupId, rule.name).to.be.a("string");
            expect(rule.inputs.ipProtocol, rule.name).to.not.equal("-1");
            expect(covers(rule, "tcp", 22), rule.name).to.equal(false);
        }
    });

    it("limits etcd and control-plane egress to HTTPS, the VPC resolver and cluster ports", () => {
        for (const kind of ["etcd", "controlplane"] as const) {
            const egress = ofType(ev, EGRESS).filter((r) => r.inputs.securityGroupId === ids[kind]);
            for (const rule of egress) {
                expect(rule.inputs.ipProtocol, rule.name).to.not.equal("-1");
                if (rule.inputs.cidrIpv4 === "0.0.0.0/0") expect([rule.inputs.fromPort, rule.inputs.toPort], rule.name).to.deep.equal([443, 443]);
            }
            expect(egress.some((r) => r.inputs.cidrIpv4 === vpcCidr && covers(r, "udp", 53)), `${kind} DNS`).to.equal(true);
        }
        expect(who("tcp", 5432, "etcd")).to.deep.equal([]);
    });
});
