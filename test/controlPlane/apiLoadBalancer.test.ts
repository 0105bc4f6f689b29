import { expect } from "chai";
import { evaluateStack, Evaluation } from "../../automation/offline/engine";
import { loadStackConfig } from "../../automation/stackConfig";
import * as YAML from "yaml";
import { evaluate, idOf, ofType, root } from "../harness";

/** NAT gateway public IPs are computed by AWS; the offline engine is told what they would be. */
const natIp = (name: string) => `198.51.100.${1 + Number(name.split("-").pop())}`;
const natInstanceIp = "198.51.100.200";

describe("ApiLoadBalancer", function () {
    this.timeout(60_000);
    let internal: Evaluation;
    let internetFacing: Evaluation;
    let namedInternetFacing: Evaluation;
    before(async () => {
        internal = await evaluate("dev");
        const config = loadStackConfig(root, "dev");
        config["kaws:apiAccess"] = "internet-facing";
        config["kaws:apiAllowedCidrs"] = JSON.stringify(["203.0.113.0/24"]);
        internetFacing = await evaluateStack({
            root, stack: "dev", config,
            computers: [(type, name) => (type === "aws:ec2/natGateway:NatGateway" ? { publicIp: natIp(name) } : type === "aws:ec2/eip:Eip" ? { publicIp: natInstanceIp } : undefined)],
        });
        namedInternetFacing = await evaluateStack({ root, stack: "dev", config: { ...config, "kaws:apiDnsName": "k8s.example.com" } });
    });

    const apiServerSans = (ev: Evaluation) => {
        const csr = ofType(ev, "tls:index/certRequest:CertRequest").find((r) => r.name.endsWith("-apiserver-csr"))!;
        return csr.inputs.dnsNames as string[];
    };
    const serverOf = (ev: Evaluation) => new URL(String(ev.outputs.apiEndpoint.value)).hostname;
    const lbName = (ev: Evaluation) => String(ev.outputs.apiLoadBalancerDnsName.value);

    it("internal: the API is api.<cluster>.internal, an alias of the NLB in the private zone, in the certificate and the kubeconfig", () => {
        const zone = ofType(internal, "aws:route53/zone:Zone")[0];
        const record = ofType(internal, "aws:route53/record:Record").find((r) => r.name.endsWith("-api-dns"))!;
        expect(record.inputs).to.deep.include({ name: "api.kaws-dev.internal", type: "A", zoneId: idOf(zone) });
        expect(record.inputs.aliases).to.deep.equal([{ name: lbName(internal), zoneId: "ZPLACEHOLDER", evaluateTargetHealth: false }]);
        expect(String(record.inputs.name).endsWith(`.${zone.inputs.name}`)).to.equal(true);
        expect(serverOf(internal)).to.equal("api.kaws-dev.internal");
        expect(apiServerSans(internal)).to.include("api.kaws-dev.internal").and.not.include(lbName(internal));
        expect(new URL(YAML.parse(String(internal.outputs.kubeconfig.value)).clusters[0].cluster.server).hostname).to.equal("api.kaws-dev.internal");
    });

    /** Whether a resource waits, directly or through others, for the API load balancer. */
    const waitsForLoadBalancer = (ev: Evaluation, urn: string): boolean => {
        const byUrn = new Map(ev.resources.map((r) => [r.urn, r]));
        const lb = ofType(ev, "aws:lb/loadBalancer:LoadBalancer")[0].urn;
        const seen = new Set<string>();
        const visit = (u: string): boolean => {
            if (u === lb) return true;
            if (seen.has(u)) return false;
            seen.add(u);
            return (byUrn.get(u)?.dependencies ?? []).some(visit);
        };
        return visit(urn);
    };
    const nodeFilesAndCertificate = (ev: Evaluation) => [
        ...ofType(ev, "aws:s3/bucketObjectv2:BucketObjectv2"),
        ...ofType(ev, "aws:ec2/launchTemplate:LaunchTemplate"),
        ofType(ev, "tls:index/locallySignedCert:LocallySignedCert").find((r) => r.name.endsWith("-apiserver-cert"))!,
    ];

    it("with a name of its own (internal, or kaws:apiDnsName), no node file, launch template or the API server certificate waits for the NLB", () => {
        for (const ev of [internal, namedInternetFacing]) {
            const resources = nodeFilesAndCertificate(ev);
            expect(resources.length).to.be.greaterThan(20);
            expect(resources.filter((r) => waitsForLoadBalancer(ev, r.urn)).map((r) => r.name)).to.deep.equal([]);
        }
        // Control: with the NLB's own name, the certificate (and the control-plane files that hold it) do wait;
        // kubelets never do: they reach the control-plane nodes by the nodes' own name.
        const waiting = nodeFilesAndCertificate(internetFacing).filter((r) => waitsForLoadBalancer(internetFacing, r.urn)).map((r) => r.name);
        expect(waiting).to.include.members(["kaws-dev-apiserver-cert"]);
        expect(waiting.filter((name) => name.includes("bootstrap-kubelet.conf"))).to.deep.equal([]);
    });

    it("internet-facing with kaws:apiDnsName: that name everywhere, and no private record (the user points it at the NLB)", () => {
        expect(serverOf(namedInternetFacing)).to.equal("k8s.example.com");
        expect(apiServerSans(namedInternetFacing)).to.include("k8s.example.com").and.not.include(lbName(namedInternetFacing));
        // Nodes never use the public name: kube-proxy on workers reaches the control-plane nodes by their private name.
        expect((namedInternetFacing.outputs.addonSettings.value as { nodeApiEndpoint: string }).nodeApiEndpoint).to.match(/^https:\/\/control-plane\.[a-z0-9-]+\.internal:6443$/);
        expect(ofType(namedInternetFacing, "aws:route53/record:Record").filter((r) => r.name.endsWith("-api-dns"))).to.deep.equal([]);
    });

    it("internet-facing without kaws:apiDnsName: the NLB's own name, in the certificate too", () => {
        expect(serverOf(internetFacing)).to.equal(lbName(internetFacing));
        expect(apiServerSans(internetFacing)).to.include(lbName(internetFacing));
        expect(ofType(internetFacing, "aws:route53/record:Record").filter((r) => r.name.endsWith("-api-dns"))).to.deep.equal([]);
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

    it("internet-facing: admits the allowed CIDRs and the nodes' NAT addresses (dev: the NAT instance's), nothing else", () => {
        const lb = ofType(internetFacing, "aws:lb/loadBalancer:LoadBalancer")[0];
        expect(lb.inputs.internal).to.equal(false);
        const cidrs = apiSecurityGroup(internetFacing).inputs.ingress.flatMap((r: { cidrBlocks: string[] }) => r.cidrBlocks).sort();
        const gateways = ofType(internetFacing, "aws:ec2/natGateway:NatGateway").map((n) => `${natIp(n.name)}/32`);
        const instances = ofType(internetFacing, "aws:ec2/instance:Instance").map(() => `${natInstanceIp}/32`);
        const nats = [...gateways, ...instances];
        expect(nats).to.have.length(1);
        expect(cidrs).to.deep.equal([...nats, "10.0.0.0/16", "203.0.113.0/24"].sort());
        expect(cidrs).to.not.include("0.0.0.0/0");
    });
});
