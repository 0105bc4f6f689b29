import { expect } from "chai";
import { parse } from "yaml";
import {
    admissionConfiguration, anonymousHealthPaths, apiServerFlags, apiServerPod, auditPolicy, authenticationConfiguration, controllerManagerPod,
    ControlPlaneSpec, renderYaml, schedulerPod,
} from "../../controlPlane/render";
import { validateKubernetesObject } from "../k8sSchema";

const spec: ControlPlaneSpec = {
    kubernetesVersion: "1.36.4",
    clusterName: "c1",
    serviceCidr: "10.96.0.0/12",
    clusterDomain: "cluster.local",
    etcdEndpoints: ["https://10.0.0.10:2379", "https://10.0.32.10:2379", "https://10.0.64.10:2379"],
};

const pods = () => [apiServerPod(spec), controllerManagerPod(spec), schedulerPod(spec)];

interface AuditRule { level: string; users?: string[]; userGroups?: string[]; verbs?: string[]; resources?: { group?: string; resources?: string[] }[]; nonResourceURLs?: string[] }

/** The level the audit policy gives a resource request: the first rule that matches wins (audit.k8s.io semantics). */
function auditLevel(policy: { rules: AuditRule[] }, request: { user: string; groups: string[]; verb: string; group: string; resource: string }): string {
    for (const rule of policy.rules) {
        if (rule.nonResourceURLs) continue;
        if (rule.users && !rule.users.includes(request.user)) continue;
        if (rule.userGroups && !rule.userGroups.some((g) => request.groups.includes(g))) continue;
        if (rule.verbs && !rule.verbs.includes(request.verb)) continue;
        if (rule.resources && !rule.resources.some((r) => (r.group ?? "") === request.group && (!r.resources || r.resources.includes(request.resource)))) continue;
        return rule.level;
    }
    return "None";
}

describe("controlPlane/render", () => {
    it("static pods validate against the Kubernetes 1.36 Pod schema after a YAML round trip", () => {
        for (const pod of pods()) expect(validateKubernetesObject(parse(renderYaml(pod))), (pod as any).metadata.name).to.deep.equal([]);
    });

    it("the schema check can fail: a container without a name is rejected", () => {
        const broken = JSON.parse(JSON.stringify(apiServerPod(spec)));
        delete broken.spec.containers[0].name;
        expect(validateKubernetesObject(broken).join("\n")).to.match(/name/);
    });

    it("images are registry.k8s.io/kube-*:v<configured version>", () => {
        expect(pods().map((p: any) => p.spec.containers[0].image)).to.deep.equal([
            "registry.k8s.io/kube-apiserver:v1.36.4", "registry.k8s.io/kube-controller-manager:v1.36.4", "registry.k8s.io/kube-scheduler:v1.36.4",
        ]);
        expect(() => apiServerPod({ ...spec, kubernetesVersion: "latest" })).to.throw(/patch release/);
    });

    it("every file a pod reads is mounted read-only from the host, and only the audit log directory is writable", () => {
        const pod: any = apiServerPod(spec);
        const flags: string[] = pod.spec.containers[0].command;
        const mounts: { mountPath: string; readOnly: boolean }[] = pod.spec.containers[0].volumeMounts;
        const files = flags.filter((f) => /=\/(etc|var)\//.test(f)).map((f) => f.split("=")[1]);
        for (const file of files) {
            const mount = mounts.find((m) => file === m.mountPath || file.startsWith(`${m.mountPath}/`));
            expect(mount, file).to.not.equal(undefined);
            expect(mount!.readOnly, file).to.equal(!file.startsWith("/var/log/kubernetes/audit"));
        }
    });

    it("etcd servers are the member endpoints; anything else is refused", () => {
        expect(apiServerFlags(spec)).to.include(`--etcd-servers=${spec.etcdEndpoints.join(",")}`);
        expect(() => apiServerFlags({ ...spec, etcdEndpoints: ["http://10.0.0.10:2379"] })).to.throw(/etcdEndpoints/);
        expect(() => apiServerFlags({ ...spec, etcdEndpoints: [] })).to.throw(/etcdEndpoints/);
    });

    it("anonymous authentication is limited to the health endpoints, and --anonymous-auth is absent (they are mutually exclusive)", () => {
        const config: any = authenticationConfiguration();
        expect(config.apiVersion).to.equal("apiserver.config.k8s.io/v1");
        expect(config.anonymous.enabled).to.equal(true);
        expect(config.anonymous.conditions.map((c: { path: string }) => c.path).sort()).to.deep.equal([...anonymousHealthPaths].sort());
        expect(apiServerFlags(spec).some((f) => f.startsWith("--anonymous-auth"))).to.equal(false);
        expect(apiServerFlags(spec)).to.include("--authentication-config=/etc/kubernetes/authentication-config.yaml");
    });

    it("the admission configuration configures EventRateLimit and Pod Security defaults (baseline enforced, restricted audited)", () => {
        const plugins: any[] = (admissionConfiguration() as any).plugins;
        const eventRateLimit = plugins.find((p) => p.name === "EventRateLimit");
        expect(eventRateLimit.configuration.limits.map((l: { type: string }) => l.type)).to.include("Server");
        const podSecurity = plugins.find((p) => p.name === "PodSecurity").configuration.defaults;
        expect([podSecurity.enforce, podSecurity.audit, podSecurity.warn]).to.deep.equal(["baseline", "restricted", "restricted"]);
    });

    it("the audit policy records secrets and exec at Metadata (never bodies) and workload changes with their requests", () => {
        const policy = auditPolicy() as unknown as { rules: AuditRule[] };
        const admin = { user: "kaws-admin", groups: ["system:masters"] };
        expect(auditLevel(policy, { ...admin, verb: "create", group: "", resource: "secrets" })).to.equal("Metadata");
        expect(auditLevel(policy, { ...admin, verb: "get", group: "", resource: "configmaps" })).to.equal("Metadata");
        expect(auditLevel(policy, { ...admin, verb: "create", group: "", resource: "pods/exec" })).to.equal("Metadata");
        expect(auditLevel(policy, { ...admin, verb: "create", group: "authentication.k8s.io", resource: "tokenreviews" })).to.equal("Metadata");
        expect(auditLevel(policy, { ...admin, verb: "patch", group: "apps", resource: "deployments" })).to.equal("Request");
        expect(auditLevel(policy, { ...admin, verb: "delete", group: "", resource: "pods" })).to.equal("Request");
        expect(auditLevel(policy, { user: "system:kube-proxy", groups: [], verb: "watch", group: "", resource: "endpoints" })).to.equal("None");
    });
});
