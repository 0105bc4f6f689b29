import { expect } from "chai";
import { X509Certificate } from "crypto";
import { Netmask } from "netmask";
import * as YAML from "yaml";
import { Evaluation } from "../automation/offline/engine";
import { addonSettingsForRender, nodeFilesOf, RenderedFile } from "../automation/offline/render";
import { KubeObject, renderAddons } from "../addons";
import { serviceIp } from "../plan/cluster";
import { evaluate, idOf, ofType } from "./harness";

// Where every client configuration kaws renders connects, from which node kind, and whether that works on
// AWS: the security groups allow it (both the target's ingress and the source's egress), it never reaches
// a load-balancer target through that load balancer from the target itself while client IPs are preserved
// (the NLB routes it back to the sender, which drops it), and the server certificate covers the address.
// Names resolve as the VPC resolver would: the load balancer's own name, or records of the private zone
// associated with the VPC (an alias record resolves to its target).

type Kind = "etcd" | "controlplane" | "workers";
interface Connection { readonly client: string; readonly from: Kind; readonly url: URL; readonly caPem?: string }
interface Model { readonly ev: Evaluation; readonly files: RenderedFile[]; readonly addons: KubeObject[] }

/** The add-ons contract the stack exports: the cluster facts its clients are configured from. */
const settingsOf = (m: Model) => m.ev.outputs.addonSettings.value as { serviceCidr: string; vpcCidr: string; region: string };

const kindOfRole = (role: string): Kind => (role.startsWith("etcd-") ? "etcd" : role === "controlplane" ? "controlplane" : "workers");

async function model(env: string): Promise<Model> {
    const ev = await evaluate(env);
    const settings = addonSettingsForRender(ev.outputs);
    return { ev, files: nodeFilesOf(ev), addons: renderAddons(settings).flatMap((a) => a.objects) };
}

/** Every client kaws configures: node kubeconfigs, add-on kubeconfigs and in-cluster clients, the apiserver's etcd servers, etcd peers. */
export function connections(m: Model): Connection[] {
    const out: Connection[] = [];
    const serviceCidr = settingsOf(m).serviceCidr;
    for (const file of m.files) {
        const role = file.path.split("/")[0];
        const doc = /\.(conf|yaml)$/.test(file.path) ? safeYaml(file.content) : undefined;
        if (doc?.kind === "Config") {
            for (const cluster of doc.clusters) {
                const ca = cluster.cluster["certificate-authority-data"];
                out.push({ client: file.path, from: kindOfRole(role), url: new URL(cluster.cluster.server), caPem: ca ? Buffer.from(ca, "base64").toString() : undefined });
            }
        }
        if (doc?.kind === "Pod") {
            for (const arg of doc.spec.containers.flatMap((c: any) => c.command ?? [])) {
                const etcd = /^--etcd-servers=(.*)$/.exec(arg);
                if (etcd) etcd[1].split(",").forEach((u) => out.push({ client: `${file.path} --etcd-servers`, from: kindOfRole(role), url: new URL(u) }));
            }
        }
        const initial = /ETCD_INITIAL_CLUSTER="?([^"\n]+)"?/.exec(file.content);
        if (role.startsWith("etcd-") && initial) {
            initial[1].split(",").forEach((entry) => out.push({ client: `${file.path} ETCD_INITIAL_CLUSTER`, from: "etcd", url: new URL(entry.split("=")[1]) }));
        }
    }
    for (const workload of m.addons.filter((o) => o.kind === "DaemonSet" || o.kind === "Deployment")) {
        const pod = (workload as any).spec.template.spec;
        const kinds = placement(pod);
        for (const container of pod.containers) {
            const configArg = (container.command ?? []).concat(container.args ?? []).find((a: string) => a.startsWith("--config="));
            const configMap = pod.volumes?.find((v: any) => v.configMap)?.configMap?.name;
            const data = configMap ? (m.addons.find((o) => o.kind === "ConfigMap" && o.metadata.name === configMap) as any)?.data : undefined;
            const config = configArg && data ? safeYaml(data[configArg.split("/").pop()]) : undefined;
            const kubeconfigKey = config?.clientConnection?.kubeconfig?.split("/").pop();
            const env = Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value]));
            const url = kubeconfigKey ? new URL(safeYaml(data[kubeconfigKey]).clusters[0].cluster.server)
                : env.KUBERNETES_SERVICE_HOST ? new URL(`https://${env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT ?? 443}`)
                    : pod.serviceAccountName ? new URL(`https://${serviceIp(serviceCidr, 1)}:443`) : undefined;
            if (url) kinds.forEach((from) => out.push({ client: `${workload.kind}/${workload.metadata.name} ${container.name}`, from, url }));
        }
    }
    return out;
}

function safeYaml(text: string | undefined): any {
    try { return text === undefined ? undefined : YAML.parse(text); } catch { return undefined; }
}

/** The node kinds a pod spec runs on. */
function placement(pod: any): Kind[] {
    if (pod.nodeSelector?.["node-role.kubernetes.io/control-plane"] !== undefined) return ["controlplane"];
    const role = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchExpressions?.find((e: any) => e.key === "kaws.io/role");
    if (role) return role.operator === "In" ? ["controlplane"] : ["workers"];
    const everywhere = (pod.tolerations ?? []).some((t: any) => t.operator === "Exists" && !t.key);
    return everywhere ? ["controlplane", "workers"] : ["workers"];
}

/** The AWS network of a stack: node kinds' groups, rules, the API load balancer and the certificates servers present. */
function network(m: Model) {
    const groups = Object.fromEntries(ofType(m.ev, "aws:ec2/securityGroup:SecurityGroup").map((g) => [g.name.split("-").pop()!, idOf(g)]));
    const sg = { etcd: groups.etcd, controlplane: groups.controlplane, workers: groups.workers, lb: groups.lb };
    const ingress = ofType(m.ev, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs);
    const egress = ofType(m.ev, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => r.inputs);
    const lbGroup = ofType(m.ev, "aws:ec2/securityGroup:SecurityGroup").find((g) => idOf(g) === sg.lb)!;
    const vpcCidr = settingsOf(m).vpcCidr;
    const ports = (rule: any, port: number, protocol: string) => (rule.ipProtocol === "-1" || rule.protocol === "-1") ||
        ((rule.ipProtocol ?? rule.protocol) === protocol && (protocol === "50" || (port >= Number(rule.fromPort) && port <= Number(rule.toPort ?? rule.fromPort))));
    const covers = (cidr: string) => { const block = new Netmask(cidr); return block.contains(new Netmask(vpcCidr).base) && block.bitmask <= new Netmask(vpcCidr).bitmask; };
    const allows = (from: Kind | "lb", to: Kind | "lb", port: number, protocol = "tcp"): string[] => {
        const problems: string[] = [];
        const fromSg = sg[from], toSg = sg[to];
        const inOk = to === "lb"
            ? (lbGroup.inputs.ingress ?? []).some((r: any) => ports(r, port, protocol) && (r.cidrBlocks ?? []).some(covers))
            : ingress.some((r) => r.securityGroupId === toSg && ports(r, port, protocol) && (r.referencedSecurityGroupId === fromSg || (r.cidrIpv4 && covers(r.cidrIpv4))));
        const outOk = from === "lb"
            ? (lbGroup.inputs.egress ?? []).some((r: any) => ports(r, port, protocol) && (r.cidrBlocks ?? []).some(covers))
            : egress.some((r) => r.securityGroupId === fromSg && ports(r, port, protocol) && (r.referencedSecurityGroupId === toSg || (r.cidrIpv4 && new Netmask(r.cidrIpv4).contains(new Netmask(vpcCidr).base))));
        if (!inOk) problems.push(`${to} does not admit ${protocol}/${port} from ${from}`);
        if (!outOk) problems.push(`${from} may not send ${protocol}/${port} to ${to}`);
        return problems;
    };
    const lb = ofType(m.ev, "aws:lb/loadBalancer:LoadBalancer")[0];
    const lbDnsName = String(m.ev.outputs.apiLoadBalancerDnsName.value);
    const vpcId = idOf(ofType(m.ev, "aws:ec2/vpc:Vpc")[0]);
    const privateZones = ofType(m.ev, "aws:route53/zone:Zone").filter((z) => (z.inputs.vpcs ?? []).some((v: any) => v.vpcId === vpcId));
    const records = ofType(m.ev, "aws:route53/record:Record").filter((r) => privateZones.some((z) => r.inputs.zoneId === idOf(z) && String(r.inputs.name).endsWith(`.${z.inputs.name}`)));
    // The record set the control-plane nodes write (controlPlane/api-record.sh), as their script names it.
    const apiRecordScript = m.files.find((f) => f.path === "controlplane/usr/local/sbin/kaws-api-record")?.content ?? "";
    const nodesRecord = /^KAWS_RECORD_NAME=(\S+)$/m.exec(apiRecordScript)?.[1];
    /** "lb", "controlplane-nodes" (the control-plane group's own addresses), an IP address, or the host itself when nothing resolves it. */
    const resolve = (host: string, hops = 0): string => {
        if (host === lbDnsName) return "lb";
        if (host === nodesRecord) return "controlplane-nodes";
        const record = records.find((r) => r.inputs.name === host && r.inputs.type === "A");
        if (!record || hops > 4) return host;
        return record.inputs.aliases?.length ? resolve(record.inputs.aliases[0].name, hops + 1) : record.inputs.records[0];
    };
    const targetGroup = ofType(m.ev, "aws:lb/targetGroup:TargetGroup")[0];
    const preservesClientIp = targetGroup.inputs.preserveClientIp !== "false" && targetGroup.inputs.targetType === "instance";
    const targets = ofType(m.ev, "aws:autoscaling/group:Group").filter((g) => (g.inputs.targetGroupArns ?? []).length > 0).map((g) => kindOfRole(g.inputs.tags.find((t: any) => t.key === "kaws:role").value));
    const cert = (role: string, file: string) => new X509Certificate(m.files.find((f) => f.path === `${role}${file}`)!.content);
    const etcdIps = (m.ev.outputs.etcdMemberIps.value as string[]);
    /** The stack's own record of a name the nodes write: answered until they have written theirs. */
    const placeholderOf = (host: string) => records.find((r) => r.inputs.name === host && r.inputs.type === "A" && r.inputs.setIdentifier);
    return { allows, lb, lbDnsName, resolve, placeholderOf, preservesClientIp, targets, cert, etcdIps, serviceCidr: settingsOf(m).serviceCidr };
}

/** Resolves a connection to where it lands and returns what would stop it on AWS. */
function problemsOf(m: Model, c: Connection): string[] {
    const net = network(m);
    const host = c.url.hostname;
    const address = net.resolve(host);
    const port = Number(c.url.port || 443);
    const at = `${c.client} (from ${c.from}) -> ${c.url.host}`;
    const apiCert = net.cert("controlplane", "/etc/kubernetes/pki/apiserver.crt");
    const coversApi = (name: string, isIp: boolean) => (isIp ? apiCert.checkIP(name) : apiCert.checkHost(name)) ? [] : [`${at}: the API server certificate does not cover ${name}`];
    if (host === "127.0.0.1" && port === 6443) {
        return [...(c.from === "controlplane" ? [] : [`${at}: no API server listens on loopback on ${c.from} nodes`]), ...coversApi(host, true)];
    }
    const throughLb = () => {
        const hairpin = net.targets.includes(c.from) && net.preservesClientIp
            ? [`${at}: ${c.from} nodes are targets of the API load balancer, which preserves client IPs: the connection hairpins back to the sender and times out`] : [];
        return [...hairpin, ...net.allows(c.from, "lb", port), ...net.allows("lb", "controlplane", 6443), ...coversApi(host, false)];
    };
    if (address === "lb") return throughLb();
    if (address === "controlplane-nodes") {
        // Straight to a control-plane node's address. Until the nodes have written the record the name answers
        // a never-routed placeholder (the client retries); without one, resolvers would cache "no such name".
        const placeholder = net.placeholderOf(host);
        const unroutable = placeholder && Number(placeholder.inputs.weightedRoutingPolicies?.[0]?.weight) === 0
            && (placeholder.inputs.records as string[]).every((ip) => new Netmask("203.0.113.0/24").contains(ip) || new Netmask("192.0.2.0/24").contains(ip) || new Netmask("198.51.100.0/24").contains(ip));
        return [...net.allows(c.from, "controlplane", port), ...coversApi(host, false),
            ...(unroutable ? [] : [`${at}: no weight-0 placeholder at a never-routed address answers before the nodes write the record`])];
    }
    if (address === serviceIp(net.serviceCidr, 1)) {
        // kube-proxy on the client's node translates the kubernetes Service to the API servers' host addresses.
        return [...net.allows(c.from, "controlplane", 6443), ...coversApi(host, true)];
    }
    const member = net.etcdIps.indexOf(address);
    if (member >= 0) {
        const file = port === 2380 ? "/etc/etcd/pki/peer.crt" : "/etc/etcd/pki/server.crt";
        const cert = net.cert(`etcd-${member}`, file);
        const covered = host === address ? cert.checkIP(host) : cert.checkHost(host);
        return [...net.allows(c.from, "etcd", port), ...(covered ? [] : [`${at}: etcd-${member}'s certificate does not cover ${host}`])];
    }
    return [`${at}: resolves to nothing kaws knows`];
}

/** Pod-to-pod traffic between nodes of two kinds travels inside weave: its control port, data ports and ESP. */
function podNetwork(net: ReturnType<typeof network>, a: Kind, b: Kind): string[] {
    return [...net.allows(a, b, 6783), ...net.allows(a, b, 6783, "udp"), ...net.allows(a, b, 6784, "udp"), ...net.allows(a, b, 0, "50")];
}

/**
 * The apiserver's kubelet client (--kubelet-preferred-address-types: the node's own address, kubelet port),
 * every APIService (the apiserver, on the host network, reaches the backing pods over the pod network), and
 * clients of the kubelet API among the add-ons (--kubelet-use-node-status-port / --kubelet-port).
 */
function kubeletAndAggregatedProblems(m: Model): { checked: number; problems: string[] } {
    const net = network(m);
    const kube: Kind[] = ["controlplane", "workers"];
    const problems: string[] = [];
    let checked = 0;
    const apiServer = YAML.parse(m.files.find((f) => f.path === "controlplane/etc/kubernetes/manifests/kube-apiserver.yaml")!.content);
    const addressTypes = apiServer.spec.containers[0].command.find((a: string) => a.startsWith("--kubelet-preferred-address-types="))?.split("=")[1] ?? "";
    if (!addressTypes.split(",")[0].startsWith("Internal")) problems.push(`kube-apiserver reaches kubelets by ${addressTypes.split(",")[0]}, not the node's private address`);
    for (const k of kube) { checked++; problems.push(...net.allows("controlplane", k, 10250).map((p) => `kube-apiserver -> kubelet: ${p}`)); }
    const workloads = m.addons.filter((o) => o.kind === "Deployment" || o.kind === "DaemonSet") as any[];
    for (const apiService of m.addons.filter((o) => o.kind === "APIService") as any[]) {
        const ref = apiService.spec.service;
        const service = m.addons.find((o) => o.kind === "Service" && o.metadata.name === ref.name && o.metadata.namespace === ref.namespace) as any;
        if (!service) { problems.push(`APIService ${apiService.metadata.name}: no Service ${ref.namespace}/${ref.name}`); continue; }
        const backing = workloads.filter((w) => Object.entries(service.spec.selector).every(([k, v]) => w.spec.template.metadata.labels?.[k] === v));
        if (backing.length === 0) problems.push(`APIService ${apiService.metadata.name}: no workload matches its Service`);
        for (const workload of backing) {
            const pod = workload.spec.template.spec;
            const targetPort = service.spec.ports[0].targetPort;
            if (!pod.containers.some((c: any) => (c.ports ?? []).some((p: any) => p.name === targetPort || p.containerPort === targetPort))) {
                problems.push(`APIService ${apiService.metadata.name}: ${workload.metadata.name} exposes no port ${targetPort}`);
            }
            for (const k of placement(pod)) { checked++; problems.push(...(pod.hostNetwork ? [] : podNetwork(net, "controlplane", k)).map((p) => `kube-apiserver -> ${apiService.metadata.name}: ${p}`)); }
        }
    }
    // Kubelet serving certificates are issued at runtime (serverTLSBootstrap); the approver signs only names and
    // addresses it recognises, so it must recognise every node's own: its private DNS name and its address.
    const approver = workloads.flatMap((w) => w.spec.template.spec.containers).find((c: any) => (c.env ?? []).some((e: any) => e.name === "PROVIDER_REGEX"));
    if (!approver) problems.push("no kubelet serving-certificate approver");
    else {
        const env = Object.fromEntries(approver.env.map((e: any) => [e.name, e.value]));
        const region = settingsOf(m).region;
        const privateSubnets = ofType(m.ev, "aws:ec2/subnet:Subnet").filter((sn) => sn.name.includes("-private-")).map((sn) => sn.inputs.cidrBlock as string);
        for (const cidr of privateSubnets) {
            checked++;
            const address = new Netmask(cidr).first;
            const nodeName = `ip-${address.replace(/\./g, "-")}.${region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`}`;
            if (!env.PROVIDER_IP_PREFIXES.split(",").some((prefix: string) => new Netmask(prefix).contains(address))) problems.push(`kubelet serving certificate: the approver refuses address ${address} (subnet ${cidr})`);
            if (!new RegExp(env.PROVIDER_REGEX).test(nodeName)) problems.push(`kubelet serving certificate: the approver refuses node name ${nodeName}`);
        }
    }
    for (const workload of workloads) {
        const pod = workload.spec.template.spec;
        const kubeletClient = pod.containers.some((c: any) => (c.args ?? []).some((a: string) => a === "--kubelet-use-node-status-port" || a.startsWith("--kubelet-port")));
        if (!kubeletClient) continue;
        for (const from of placement(pod)) for (const k of kube) { checked++; problems.push(...net.allows(from, k, 10250).map((p) => `${workload.metadata.name} -> kubelet: ${p}`)); }
    }
    return { checked, problems };
}

describe("connection model", function () {
    this.timeout(60000);
    const models: Record<string, Model> = {};
    before(async () => {
        for (const env of ["dev", "prod"]) models[env] = await model(env);
    });

    for (const env of ["dev", "prod"]) {
        it(`${env}: every rendered client reaches its server: security groups allow it, no load-balancer hairpin, certificates cover the address`, () => {
            const m = models[env];
            const all = connections(m);
            const clients = new Set(all.map((c) => c.client.split(" ")[0]));
            expect([...clients].some((c) => c.includes("kubelet.conf") || c.includes("bootstrap-kubelet.conf")), "kubelet kubeconfigs").to.equal(true);
            expect(all.some((c) => c.client.startsWith("DaemonSet/kube-proxy-control-plane")), "kube-proxy on the control plane").to.equal(true);
            expect(all.some((c) => c.client.includes("--etcd-servers")), "apiserver -> etcd").to.equal(true);
            expect(all.some((c) => c.client.includes("ETCD_INITIAL_CLUSTER")), "etcd peers").to.equal(true);
            if (process.env.KAWS_SHOW_CONNECTIONS) console.log(all.map((c) => `${c.from} ${c.client} -> ${c.url.host}`).join("\n"));
            expect(all.flatMap((c) => problemsOf(m, c))).to.deep.equal([]);
        });

        it(`${env}: node-to-node traffic kaws needs is allowed: weave between every pair of Kubernetes nodes, the NLB's health check`, () => {
            const net = network(models[env]);
            const kube: Kind[] = ["controlplane", "workers"];
            const problems = [
                ...kube.flatMap((a) => kube.flatMap((b) => podNetwork(net, a, b))),
                ...net.allows("lb", "controlplane", 6443),
            ];
            expect(problems).to.deep.equal([]);
        });

        it(`${env}: the apiserver reaches kubelets and aggregated APIs, and metrics-server reaches kubelets`, () => {
            const m = models[env];
            const problems = kubeletAndAggregatedProblems(m);
            expect(problems.checked, "connections checked").to.be.greaterThan(3);
            expect(problems.problems).to.deep.equal([]);
        });
    }

    for (const env of ["dev", "prod"]) {
        it(`${env}: nodes reach the API by the control-plane nodes' own name (a placeholder until those write it), clients outside by the plan's name; none by the NLB's own`, () => {
            const m = models[env];
            const net = network(m);
            const clusterName = m.ev.outputs.clusterName.value as string;
            const apiHost = new URL(String(m.ev.outputs.apiEndpoint.value)).hostname;
            expect(apiHost).to.equal(`api.${clusterName}.internal`);
            expect(net.resolve(apiHost)).to.equal("lb");
            const nodeHost = `control-plane.${clusterName}.internal`;
            expect(net.resolve(nodeHost)).to.equal("controlplane-nodes");
            expect(net.placeholderOf(nodeHost)!.inputs.records, "the placeholder until the nodes write theirs").to.deep.equal(["203.0.113.123"]);
            const apiClients = connections(m).filter((c) => c.url.port === "6443" && c.url.hostname !== "127.0.0.1");
            const clients = apiClients.map((c) => c.client.split(" ")[0]);
            expect(clients.some((c) => c.startsWith("worker-") && c.endsWith("/etc/kubernetes/bootstrap-kubelet.conf")), "worker kubelets").to.equal(true);
            expect(clients, "kube-proxy on workers").to.include("DaemonSet/kube-proxy");
            expect([...new Set(apiClients.map((c) => c.url.hostname))]).to.deep.equal([nodeHost]);
            const admin = YAML.parse(String(m.ev.outputs.kubeconfig.value));
            expect(new URL(admin.clusters[0].cluster.server).hostname, "the admin kubeconfig").to.equal(apiHost);
            const cert = net.cert("controlplane", "/etc/kubernetes/pki/apiserver.crt");
            expect([cert.checkHost(apiHost), cert.checkHost(nodeHost)], "SANs of the API server certificate").to.deep.equal([apiHost, nodeHost]);
        });
    }

    describe("controls: the model fails on the defects it exists for", () => {
        it("kube-proxy on control-plane nodes through the NLB (the hairpin) fails", () => {
            const m = models.dev;
            const endpoint = String(m.ev.outputs.apiEndpoint.value);
            const addons = m.addons.map((o) => (o.kind === "ConfigMap" && o.metadata.name === "kube-proxy"
                ? { ...o, data: Object.fromEntries(Object.entries((o as any).data as Record<string, string>).map(([k, v]) => [k, v.replace("https://127.0.0.1:6443", endpoint)])) }
                : o));
            const broken = { ...m, addons };
            const problems = connections(broken).flatMap((c) => problemsOf(broken, c));
            expect(problems.join("\n")).to.match(/DaemonSet\/kube-proxy-control-plane.*hairpins/);
        });

        it("metrics-server moved to workers cannot reach kubelets (kubelets admit the control plane only)", () => {
            const m = models.dev;
            const addons = m.addons.map((o) => (o.kind === "Deployment" && o.metadata.name === "metrics-server"
                ? JSON.parse(JSON.stringify(o, (k, v) => (k === "nodeSelector" || k === "tolerations" ? undefined : v))) : o));
            expect(kubeletAndAggregatedProblems({ ...m, addons }).problems.join("\n")).to.contain("metrics-server -> kubelet: workers does not admit tcp/10250 from workers");
        });

        it("a certificate approver that does not recognise the nodes' addresses fails", () => {
            const m = models.prod;
            const addons = JSON.parse(JSON.stringify(m.addons).replace(/"PROVIDER_IP_PREFIXES","value":"[^"]+"/, "\"PROVIDER_IP_PREFIXES\",\"value\":\"192.168.0.0/16\""));
            const problems = kubeletAndAggregatedProblems({ ...m, addons }).problems;
            expect(problems.filter((p) => p.includes("the approver refuses address"))).to.have.length(3);
        });

        it("a client of the NLB's own name (not in the certificate), the nodes' name with no one writing it, or without its placeholder, fail", () => {
            const m = models.dev;
            const viaLb = problemsOf(m, { client: "x", from: "workers", url: new URL(`https://${network(m).lbDnsName}:6443`) });
            expect(viaLb.join("\n")).to.contain("the API server certificate does not cover kaws-dev-api-placeholder");
            const unwritten = {
                ...m, files: m.files.filter((f) => !f.path.endsWith("/kaws-api-record")),
                ev: { ...m.ev, resources: m.ev.resources.filter((r) => r.name !== "kaws-dev-node-api-placeholder") },
            };
            expect(connections(unwritten).flatMap((c) => problemsOf(unwritten, c)).join("\n")).to.match(/-> control-plane\.kaws-dev\.internal:6443: resolves to nothing kaws knows/);
            const noPlaceholder = { ...m, ev: unwritten.ev };
            expect(connections(noPlaceholder).flatMap((c) => problemsOf(noPlaceholder, c)).join("\n")).to.contain("no weight-0 placeholder");
        });

        it("a missing security-group rule, a client on the wrong node and an address the certificate does not cover fail", () => {
            const m = models.dev;
            const ev = { ...m.ev, resources: m.ev.resources.filter((r) => !r.name.endsWith("etcd-in-etcd-client-from-controlplane")) };
            const broken = { ...m, ev };
            expect(connections(broken).flatMap((c) => problemsOf(broken, c)).join("\n")).to.contain("etcd does not admit tcp/2379 from controlplane");
            expect(problemsOf(m, { client: "x", from: "workers", url: new URL("https://127.0.0.1:6443") })).to.have.length(1);
            expect(problemsOf(m, { client: "x", from: "workers", url: new URL("https://10.0.0.10:2379") }).join()).to.contain("etcd does not admit tcp/2379 from workers");
            const apiHost = new URL(String(m.ev.outputs.apiEndpoint.value)).hostname;
            expect(problemsOf(m, { client: "x", from: "workers", url: new URL(`https://${apiHost}:6443`) })).to.deep.equal([]);
            const net = network(m);
            expect(net.cert("controlplane", "/etc/kubernetes/pki/apiserver.crt").checkHost("api.other.example")).to.equal(undefined);
        });
    });
});
