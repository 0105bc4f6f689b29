import { expect } from "chai";
import { Netmask } from "netmask";
import { Evaluation, RecordedResource } from "../../automation/offline/engine";
import { evaluate, idOf, named, ofType } from "../harness";

const SUBNET = "aws:ec2/subnet:Subnet";
const NAT = "aws:ec2/natGateway:NatGateway";
const ROUTE_TABLE = "aws:ec2/routeTable:RouteTable";
const ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation";
const ROUTE = "aws:ec2/route:Route";
const INSTANCE = "aws:ec2/instance:Instance";

function subnets(ev: Evaluation, kind: "public" | "private") {
    return ofType(ev, SUBNET).filter((s) => s.name.includes(`-${kind}-`));
}

function routeTableOf(ev: Evaluation, subnetName: string) {
    const subnet = named(ev, subnetName);
    const association = ofType(ev, ASSOCIATION).find((a) => a.inputs.subnetId === idOf(subnet));
    expect(association, `route table association of ${subnetName}`).to.exist;
    return ofType(ev, ROUTE_TABLE).find((t) => idOf(t) === association!.inputs.routeTableId)!;
}

function routesOf(ev: Evaluation, table: RecordedResource) {
    return ofType(ev, ROUTE).filter((r) => r.inputs.routeTableId === idOf(table));
}

describe("Network", () => {
    let dev: Evaluation;
    let prod: Evaluation;
    before(async () => {
        dev = await evaluate("dev");
        prod = await evaluate("prod");
    });

    it("builds one public and one private subnet per AZ, each in a distinct AZ", () => {
        for (const [ev, azs] of [[dev, 1], [prod, 3]] as const) {
            for (const kind of ["public", "private"] as const) {
                const zones = subnets(ev, kind).map((s) => s.inputs.availabilityZone);
                expect(zones).to.have.length(azs);
                expect(new Set(zones).size).to.equal(azs);
            }
        }
        expect(subnets(prod, "private").map((s) => s.inputs.availabilityZone)).to.deep.equal(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    });

    it("keeps every subnet inside the VPC and disjoint from the others", () => {
        for (const ev of [dev, prod]) {
            const vpc = new Netmask(ofType(ev, "aws:ec2/vpc:Vpc")[0].inputs.cidrBlock);
            const nets = ofType(ev, SUBNET).map((s) => new Netmask(s.inputs.cidrBlock));
            for (const net of nets) {
                expect(vpc.contains(net.base) && vpc.contains(net.last), `${net} inside ${vpc}`).to.equal(true);
            }
            for (let i = 0; i < nets.length; i++) {
                for (let j = i + 1; j < nets.length; j++) {
                    expect(nets[i].contains(nets[j].base) || nets[j].contains(nets[i].base), `${nets[i]} vs ${nets[j]}`).to.equal(false);
                }
            }
        }
    });

    it("gives prod a NAT gateway with an EIP in each AZ's public subnet, and dev a NAT instance instead", () => {
        expect(ofType(prod, NAT)).to.have.length(3);
        expect(ofType(prod, "aws:ec2/eip:Eip")).to.have.length(3);
        const publicIds = subnets(prod, "public").map(idOf);
        expect(ofType(prod, NAT).map((n) => n.inputs.subnetId)).to.have.members(publicIds);
        expect(ofType(dev, NAT)).to.have.length(0);
        expect(ofType(dev, INSTANCE)).to.have.length(1);
    });

    it("routes each prod private subnet through the NAT gateway of its own AZ, with a route of its own", () => {
        const publicById = new Map(subnets(prod, "public").map((s) => [idOf(s), s]));
        for (const subnet of subnets(prod, "private")) {
            const table = routeTableOf(prod, subnet.name);
            expect(table.inputs.routes, "no inline routes: the table must not wait for the NAT gateway").to.equal(undefined);
            const routes = routesOf(prod, table);
            expect(routes).to.have.length(1);
            expect(routes[0].inputs.destinationCidrBlock).to.equal("0.0.0.0/0");
            const nat = ofType(prod, NAT).find((n) => idOf(n) === routes[0].inputs.natGatewayId)!;
            expect(publicById.get(nat.inputs.subnetId)!.inputs.availabilityZone).to.equal(subnet.inputs.availabilityZone);
        }
    });

    it("launches nodes once their subnets' route tables and the S3 endpoint exist, without waiting for the NAT (boot scripts retry internet downloads)", () => {
        for (const ev of [dev, prod]) {
            const endpoint = ofType(ev, "aws:ec2/vpcEndpoint:VpcEndpoint")[0];
            const groups = ofType(ev, "aws:autoscaling/group:Group");
            expect(groups.length).to.be.greaterThan(2);
            const natUrns = new Set([...ofType(ev, NAT), ...ofType(ev, ROUTE), ...ofType(ev, "aws:ec2/instance:Instance")].map((r) => r.urn));
            expect(natUrns.size).to.be.greaterThan(0);
            for (const group of groups) {
                const waitsFor = new Set(group.dependencies ?? []);
                const associations = ofType(ev, ASSOCIATION).filter((a) => (group.inputs.vpcZoneIdentifiers as string[]).includes(a.inputs.subnetId));
                expect(associations.length, `${group.name}: its subnets' route table associations`).to.be.greaterThan(0);
                for (const association of associations) expect(waitsFor.has(association.urn), `${group.name} waits for ${association.name}`).to.equal(true);
                expect(waitsFor.has(endpoint.urn), `${group.name} waits for the S3 endpoint`).to.equal(true);
                expect([...waitsFor].filter((urn) => natUrns.has(urn)), `${group.name} does not wait for the NAT`).to.deep.equal([]);
            }
        }
    });

    it("attaches the S3 gateway endpoint to route tables that depend on no NAT gateway", () => {
        const endpoint = ofType(prod, "aws:ec2/vpcEndpoint:VpcEndpoint")[0];
        const tables = ofType(prod, ROUTE_TABLE).filter((t) => endpoint.inputs.routeTableIds.includes(idOf(t)));
        expect(tables).to.have.length(4);
        const natIds = new Set(ofType(prod, NAT).map(idOf));
        for (const table of tables) {
            expect(JSON.stringify(table.inputs), table.name).to.not.match(new RegExp([...natIds].join("|")));
        }
    });

    it("routes public subnets to the internet gateway and never gives instances public IPs", () => {
        const igw = ofType(prod, "aws:ec2/internetGateway:InternetGateway")[0];
        for (const subnet of subnets(prod, "public")) {
            expect(routeTableOf(prod, subnet.name).inputs.routes).to.deep.equal([{ cidrBlock: "0.0.0.0/0", gatewayId: idOf(igw) }]);
        }
        for (const subnet of ofType(prod, SUBNET)) expect(subnet.inputs.mapPublicIpOnLaunch).to.equal(false);
    });

    it("follows the natGateways strategy: none leaves private subnets without a default route, single shares one gateway", async () => {
        const none = await evaluate("prod", { natGateways: "none", imageId: "ami-0123456789abcdef0" });
        expect(ofType(none, NAT)).to.have.length(0);
        expect(ofType(none, ROUTE)).to.have.length(0);
        const single = await evaluate("prod", { natGateways: "single" });
        const nats = ofType(single, NAT);
        expect(nats).to.have.length(1);
        for (const subnet of subnets(single, "private")) {
            expect(routesOf(single, routeTableOf(single, subnet.name)).map((r) => r.inputs.natGatewayId)).to.deep.equal([idOf(nats[0])]);
        }
    });

    it("natGateways instance: every private subnet routes to one interface with source/dest check off, behind an EIP, in the first public subnet", async () => {
        const three = await evaluate("dev", { azCount: 3 });
        const eni = ofType(three, "aws:ec2/networkInterface:NetworkInterface").find((n) => n.name.endsWith("-nat-instance"))!;
        expect(eni.inputs.sourceDestCheck).to.equal(false);
        expect(eni.inputs.subnetId).to.equal(idOf(subnets(three, "public").find((s) => s.name.endsWith("-public-0"))!));
        for (const subnet of subnets(three, "private")) {
            expect(routesOf(three, routeTableOf(three, subnet.name)).map((r) => r.inputs.networkInterfaceId)).to.deep.equal([idOf(eni)]);
        }
        const eips = ofType(three, "aws:ec2/eip:Eip");
        expect(eips.map((e) => e.inputs.networkInterface)).to.deep.equal([idOf(eni)]);
        const instance = ofType(three, INSTANCE)[0];
        expect(instance.inputs.primaryNetworkInterface.networkInterfaceId).to.equal(idOf(eni));
        expect(instance.inputs.iamInstanceProfile, "the NAT instance calls no AWS API").to.equal(undefined);
        expect(instance.inputs.metadataOptions.httpTokens).to.equal("required");
        expect(instance.inputs.userData).to.include("10.0.0.0/19").and.include("10.0.32.0/19").and.include("10.0.64.0/19");
        // The NAT forwards exactly the private subnets: its group admits each of them and nothing else.
        const group = ofType(three, "aws:ec2/securityGroup:SecurityGroup").find((g) => g.name.endsWith("-nat-instance"))!;
        const ingress = ofType(three, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.securityGroupId === idOf(group));
        expect(ingress.map((r) => r.inputs.cidrIpv4).sort()).to.deep.equal(subnets(three, "private").map((s) => s.inputs.cidrBlock).sort());
    });

    it("refuses a NAT instance in prod before creating anything", async () => {
        const failure = await evaluate("prod", { natGateways: "instance" }).then(() => undefined, (err) => err);
        expect(failure?.cause?.problems).to.deep.equal(['kaws:natGateways: "instance" is one instance in one AZ, too fragile for environment "prod"; accepted: perAz | single | none']);
    });

    it("tags subnets for load balancer discovery and every AWS resource with the cluster tag", () => {
        for (const s of subnets(prod, "public")) expect(s.inputs.tags["kubernetes.io/role/elb"]).to.equal("1");
        for (const s of subnets(prod, "private")) expect(s.inputs.tags["kubernetes.io/role/internal-elb"]).to.equal("1");
        for (const ev of [dev, prod]) {
            const provider = ofType(ev, "pulumi:providers:aws");
            expect(provider).to.have.length(1);
            const cluster = ev.outputs.clusterName.value as string;
            expect(JSON.parse(provider[0].inputs.defaultTags).tags).to.include({ [`kubernetes.io/cluster/${cluster}`]: "owned" });
            const providerRef = `${provider[0].urn}::${idOf(provider[0])}`;
            const awsResources = ev.resources.filter((r) => r.type.startsWith("aws:"));
            expect(awsResources.length).to.be.greaterThan(10);
            for (const r of awsResources) expect(r.provider, `${r.type} ${r.name}`).to.equal(providerRef);
        }
    });

    it("adds an S3 gateway endpoint on every route table", () => {
        const endpoint = ofType(prod, "aws:ec2/vpcEndpoint:VpcEndpoint");
        expect(endpoint).to.have.length(1);
        expect(endpoint[0].inputs.serviceName).to.equal("com.amazonaws.eu-west-1.s3");
        expect(endpoint[0].inputs.vpcEndpointType).to.equal("Gateway");
        expect(endpoint[0].inputs.routeTableIds).to.have.members(ofType(prod, ROUTE_TABLE).map(idOf));
    });

    it("empties the default security group", () => {
        const sg = ofType(prod, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
        expect(sg).to.have.length(1);
        expect(sg[0].inputs.ingress).to.deep.equal([]);
        expect(sg[0].inputs.egress).to.deep.equal([]);
    });

    it("sends all VPC traffic to flow logs in prod only, through a role limited to its log group", () => {
        expect(ofType(dev, "aws:ec2/flowLog:FlowLog")).to.have.length(0);
        const [flowLog] = ofType(prod, "aws:ec2/flowLog:FlowLog");
        expect(flowLog.inputs.trafficType).to.equal("ALL");
        const [group] = ofType(prod, "aws:cloudwatch/logGroup:LogGroup");
        expect(group.inputs.retentionInDays).to.equal(365);
        expect(group.inputs.kmsKeyId, "encrypted with the cluster key").to.equal(`arn:aws:kms:eu-west-1:000000000000:placeholder/${named(prod, "kaws-prod-key").name}`);
        const policy = JSON.parse(ofType(prod, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "kaws-prod-flow-logs")!.inputs.policy);
        for (const statement of policy.Statement) {
            expect(statement.Resource).to.not.include("*");
            for (const action of statement.Action) expect(action).to.match(/^logs:/);
        }
    });

    it("exports the VPC, AZ names and subnet ids by AZ", () => {
        expect(prod.outputs.azNames.value).to.deep.equal(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
        expect(Object.keys(prod.outputs.privateSubnetIds.value as object)).to.deep.equal(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
        expect(Object.values(prod.outputs.publicSubnetIds.value as object)).to.have.members(subnets(prod, "public").map(idOf));
        expect(prod.outputs.vpcId.value).to.equal(idOf(ofType(prod, "aws:ec2/vpc:Vpc")[0]));
    });
});
