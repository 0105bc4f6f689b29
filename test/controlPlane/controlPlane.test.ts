import { expect } from "chai";
import * as fs from "fs";
import { parse as parseCsv } from "csv-parse/sync";
import { parse } from "yaml";
import { Evaluation } from "../../automation/offline/engine";
import { oneAtATime } from "../../controlPlane/controlPlane";
import { anonymousHealthPaths } from "../../controlPlane/render";
import { InstalledFile, bootstrapTokenOf, evaluate, fixturePath, idOf, ofType, roleFiles } from "../harness";
import { validateKubernetesObject } from "../k8sSchema";
import { configProblems } from "../upstream";

interface CisRow { id: string; component: string; target: string; flag: string; expected: string; title: string }
const cisRows: CisRow[] = parseCsv(fs.readFileSync(fixturePath("cis-k8s-checks.csv"), "utf8"), { columns: true, skip_empty_lines: true });

/** `--flag=value` arguments of a static pod's container, by flag. */
function podFlags(files: Map<string, InstalledFile>, component: string): Map<string, string> {
    const pod = parse(files.get(`/etc/kubernetes/manifests/${component}.yaml`)!.content);
    const command: string[] = pod.spec.containers[0].command;
    expect(command[0]).to.equal(component);
    return new Map(command.slice(1).map((arg) => {
        const at = arg.indexOf("=");
        return [arg.slice(0, at), arg.slice(at + 1)] as [string, string];
    }));
}

const lookup = (obj: any, dotted: string): unknown => dotted.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
const listOf = (value: string) => value.split(",").map((v) => v.trim()).filter(Boolean);

/**
 * Checks one value against the CSV's "expected" column. Returns a problem or "" when satisfied. The
 * column's phrasing is interpreted, not copied: "ABSENT", "false", ">=N", "contains X", "not containing X
 * (or flag absent)", "... or absent/unset", "set", "subset of: ...", "not 0".
 */
function checkExpected(expected: string, value: unknown, present: boolean): string {
    const e = expected.trim();
    const show = present ? JSON.stringify(value) : "absent";
    const orAbsent = /\bor (absent|unset)\b|\(or unset|\(or flag absent\)|or unset\)/.test(e);
    const mustBeAbsent = /^ABSENT\b/.test(e);
    if (!present) return orAbsent || mustBeAbsent ? "" : `absent, expected ${e}`;
    if (mustBeAbsent) return `set to ${show}, expected absent`;
    let m: RegExpMatchArray | null;
    if ((m = e.match(/^>=\s*(\d+)/))) return Number(value) >= Number(m[1]) ? "" : `${show} < ${m[1]}`;
    if ((m = e.match(/^>\s*(\d+)/))) return Number(value) > Number(m[1]) ? "" : `${show} <= ${m[1]}`;
    if ((m = e.match(/^not containing (\S+)/))) return listOf(String(value)).includes(m[1]) ? `${show} contains ${m[1]}` : "";
    if ((m = e.match(/^contains (\w+)/))) return listOf(String(value)).includes(m[1]) ? "" : `${show} lacks ${m[1]}`;
    if ((m = e.match(/^subset of: ([A-Z0-9_,]+)/))) {
        const allowed = listOf(m[1]);
        const values = Array.isArray(value) ? value.map(String) : listOf(String(value));
        const extra = values.filter((v) => !allowed.includes(v));
        return values.length > 0 && extra.length === 0 ? "" : `not allowed: ${extra.join(",") || "(empty)"}`;
    }
    if (/^not 0\b/.test(e)) return String(value) !== "0" && value !== 0 ? "" : `${show} is 0`;
    if (/^not false\b/.test(e)) return String(value) !== "false" ? "" : `${show} is false`;
    if (/^(true|false)\b/.test(e)) return String(value) === e.split(/\b/)[0] ? "" : `${show}, expected ${e.split(/\b/)[0]}`;
    if (/^(0|127\.0\.0\.1)\b/.test(e)) return String(value) === e.split(" ")[0] ? "" : `${show}, expected ${e.split(" ")[0]}`;
    if (/^Webhook\b/.test(e)) return value === "Webhook" ? "" : `${show}, expected Webhook`;
    if (/^(both )?set\b/.test(e)) return value !== "" && value !== undefined && value !== null ? "" : "empty";
    throw new Error(`no interpretation of expected value "${e}"`);
}

/** Octal mode `actual` grants nothing beyond `expected` (e.g. 0600 satisfies "0644 or stricter"). */
function atMost(actual: string, expected: string): boolean {
    const limit = parseInt(expected.match(/0[0-7]{3}/)![0], 8);
    return (parseInt(actual, 8) & ~limit) === 0;
}

const controlPlaneFilesByComponent: Record<string, (path: string) => boolean> = {
    "apiserver-manifest": (p) => p === "/etc/kubernetes/manifests/kube-apiserver.yaml",
    "controller-manager-manifest": (p) => p === "/etc/kubernetes/manifests/kube-controller-manager.yaml",
    "scheduler-manifest": (p) => p === "/etc/kubernetes/manifests/kube-scheduler.yaml",
    "scheduler-kubeconfig": (p) => p === "/etc/kubernetes/scheduler.conf",
    "controller-manager-kubeconfig": (p) => p === "/etc/kubernetes/controller-manager.conf",
    "pki-dir": (p) => p.startsWith("/etc/kubernetes/pki/"),
    "pki-certs": (p) => p.startsWith("/etc/kubernetes/pki/") && p.endsWith(".crt"),
    "pki-keys": (p) => p.startsWith("/etc/kubernetes/pki/") && p.endsWith(".key"),
};
/** kubelet's files exist on every Kubernetes node; kubelet writes kubelet.conf itself (0600), from the bootstrap kubeconfig. */
const nodeFilesByComponent: Record<string, (path: string) => boolean> = {
    "kubelet-service": (p) => p === "/etc/systemd/system/kubelet.service",
    "kubelet-kubeconfig": (p) => p === "/etc/kubernetes/bootstrap-kubelet.conf",
    "kubelet-client-ca": (p) => p === "/etc/kubernetes/pki/ca.crt",
    "kubelet-config": (p) => p === "/var/lib/kubelet/config.yaml",
};

/** Rows this layer does not render, and who covers them (README "CIS"). */
const coveredElsewhere: Record<string, string> = {
    "etcd-config": "etcd runs on separate nodes; asserted by the etcd tests",
    "etcd-data-dir": "etcd runs on separate nodes; asserted by the etcd tests",
    etcd: "etcd runs on separate nodes; asserted by the etcd tests",
    "cni-files": "written at run time by the weave-net add-on, not rendered by kaws",
    "kube-proxy-kubeconfig": "kube-proxy is an add-on (its kubeconfig is a ConfigMap mounted by the DaemonSet)",
    "kube-proxy": "kube-proxy is an add-on; see the add-on tests",
    "users/auth": "manual: how people authenticate (the admin kubeconfig is a break-glass credential)",
    rbac: "manual: RBAC objects are add-ons",
    cni: "manual: weave-npc enforces NetworkPolicy; policies are per namespace",
};

/** Rows deliberately met another way, with the assertion that proves the intent (README "CIS deviations"). */
const deliberate: Record<string, (files: Map<string, InstalledFile>) => void> = {
    // --anonymous-auth cannot be combined with an AuthenticationConfiguration that has an anonymous section.
    "1.2.1": (files) => {
        expect(podFlags(files, "kube-apiserver").has("--anonymous-auth")).to.equal(false);
        const config = parse(files.get(podFlags(files, "kube-apiserver").get("--authentication-config")!)!.content);
        expect(config.anonymous.conditions.map((c: { path: string }) => c.path).sort()).to.deep.equal([...anonymousHealthPaths].sort());
    },
};

const componentPods: Record<string, string> = { "kube-apiserver": "kube-apiserver", "kube-controller-manager": "kube-controller-manager", "kube-scheduler": "kube-scheduler" };

describe("ControlPlane", function () {
    this.timeout(60_000);
    const stacks: Record<string, Evaluation> = {};
    before(async () => {
        stacks.dev = await evaluate("dev");
        stacks.prod = await evaluate("prod");
    });

    const kubernetesRoles = (ev: Evaluation) => [...new Set(ofType(ev, "aws:s3/bucketObjectv2:BucketObjectv2").map((o) => String(o.inputs.key).split("/")[1]))]
        .filter((role) => role === "controlplane" || role.startsWith("worker-"));

    it("reads every row of the CIS checks fixture", () => {
        expect(cisRows.length).to.be.greaterThan(90);
        expect(cisRows.every((r) => r.id && r.component && r.expected !== undefined)).to.equal(true);
    });

    it("the expected-value interpreter can fail", () => {
        expect(checkExpected(">=30", "7", true)).to.not.equal("");
        expect(checkExpected("contains NodeRestriction", "EventRateLimit", true)).to.not.equal("");
        expect(checkExpected("ABSENT", "x", true)).to.not.equal("");
        expect(checkExpected("false", "true", true)).to.not.equal("");
        expect(checkExpected("subset of: A,B", "A,C", true)).to.not.equal("");
        expect(atMost("0644", "0600")).to.equal(false);
    });

    for (const env of ["dev", "prod"]) {
        it(`${env}: every CIS row is satisfied by the rendered node files, deliberately met another way, or owned elsewhere`, () => {
            const ev = stacks[env];
            const controlPlane = roleFiles(ev, "controlplane");
            const roles = kubernetesRoles(ev);
            expect(roles).to.include("controlplane");
            expect(roles.filter((r) => r.startsWith("worker-"))).to.have.length.greaterThan(0);
            const problems: string[] = [];
            const report = (row: CisRow, where: string, problem: string) => { if (problem) problems.push(`${row.id} ${row.flag} (${where}): ${problem}`); };

            for (const row of cisRows) {
                if (deliberate[row.id]) {
                    deliberate[row.id](controlPlane);
                    continue;
                }
                if (coveredElsewhere[row.component]) continue;
                if (componentPods[row.component]) {
                    const flags = podFlags(controlPlane, componentPods[row.component]);
                    const names = row.flag.split("+").map((f) => f.trim());
                    if (/^contains|^not containing/.test(row.expected) || names.length === 1) {
                        report(row, row.component, checkExpected(row.expected, flags.get(names[0]), flags.has(names[0])));
                    }
                    if (names.length > 1 && !/^contains|^not containing/.test(row.expected)) {
                        for (const name of names) report(row, row.component, checkExpected(row.expected, flags.get(name), flags.has(name)));
                    }
                    if (names[0] === "--enable-admission-plugins" && names[1] === "--admission-control-config-file") {
                        const admission = parse(controlPlane.get(flags.get(names[1])!)!.content);
                        report(row, "admission config", admission.plugins.some((p: { name: string }) => p.name === "EventRateLimit") ? "" : "no EventRateLimit configuration");
                    }
                    continue;
                }
                if (row.component === "encryption-config") {
                    const config = parse(controlPlane.get(podFlags(controlPlane, "kube-apiserver").get("--encryption-provider-config")!)!.content);
                    for (const resource of config.resources) {
                        report(row, "encryption config", ["aescbc", "kms", "secretbox"].includes(Object.keys(resource.providers[0])[0]) ? "" : `first provider ${Object.keys(resource.providers[0])[0]}`);
                    }
                    continue;
                }
                if (row.component === "audit-policy") {
                    const policy = parse(controlPlane.get(podFlags(controlPlane, "kube-apiserver").get("--audit-policy-file")!)!.content);
                    const secretsRule = policy.rules.find((r: any) => (r.resources ?? []).some((g: any) => g.group === "" && (g.resources ?? []).includes("secrets")));
                    report(row, "audit policy", secretsRule?.level === "Metadata" ? "" : "secrets are not audited at Metadata");
                    continue;
                }
                if (row.component === "admission") {
                    const admission = parse(controlPlane.get(podFlags(controlPlane, "kube-apiserver").get("--admission-control-config-file")!)!.content);
                    report(row, "admission config", admission.plugins.find((p: { name: string }) => p.name === "PodSecurity")?.configuration.defaults.enforce === "baseline" ? "" : "no Pod Security default");
                    continue;
                }
                if (row.component === "admin-kubeconfig") {
                    for (const role of roles) report(row, role, [...roleFiles(ev, role).keys()].some((p) => /\/(super-)?admin\.conf$/.test(p)) ? "an admin kubeconfig is installed on a node" : "");
                    continue;
                }
                if (controlPlaneFilesByComponent[row.component] || nodeFilesByComponent[row.component]) {
                    const perNode = !!nodeFilesByComponent[row.component];
                    const matches = perNode ? nodeFilesByComponent[row.component] : controlPlaneFilesByComponent[row.component];
                    for (const role of perNode ? roles : ["controlplane"]) {
                        const files = [...roleFiles(ev, role).entries()].filter(([p]) => matches(p));
                        if (files.length === 0) report(row, role, "no such file");
                        for (const [file, installed] of files) {
                            if (row.flag === "mode") report(row, `${role} ${file}`, atMost(installed.mode, row.expected) ? "" : `mode ${installed.mode}`);
                            else if (row.flag === "owner") report(row, `${role} ${file}`, installed.owner === row.expected.split(" ")[0] ? "" : `owner ${installed.owner}`);
                            else throw new Error(`${row.id}: unknown file check ${row.flag}`);
                        }
                    }
                    continue;
                }
                if (row.component === "kubelet") {
                    for (const role of roles) {
                        const files = roleFiles(ev, role);
                        const config = parse(files.get("/var/lib/kubelet/config.yaml")!.content);
                        expect(configProblems("kubelet", config), role).to.deep.equal([]);
                        if (row.flag.startsWith("--")) {
                            const unit = files.get("/etc/systemd/system/kubelet.service")!.content;
                            report(row, role, checkExpected(row.expected, undefined, unit.includes(row.flag)));
                        } else if (row.flag === "tlsCertFile + tlsPrivateKeyFile") {
                            report(row, role, config.serverTLSBootstrap === true && config.rotateCertificates === true ? "" : "no serving certificate: serverTLSBootstrap is off");
                        } else {
                            report(row, role, checkExpected(row.expected, lookup(config, row.flag), lookup(config, row.flag) !== undefined));
                        }
                    }
                    continue;
                }
                throw new Error(`CIS row ${row.id}: component "${row.component}" is neither checked nor listed as covered elsewhere`);
            }
            expect(problems).to.deep.equal([]);
        });

        it(`${env}: static pods validate against the Kubernetes schema and kubelet configs against theirs`, () => {
            const files = roleFiles(stacks[env], "controlplane");
            for (const component of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
                expect(validateKubernetesObject(parse(files.get(`/etc/kubernetes/manifests/${component}.yaml`)!.content)), component).to.deep.equal([]);
            }
        });

        it(`${env}: control-plane components and kubelet talk to 127.0.0.1:6443, never to the load balancer`, () => {
            const files = roleFiles(stacks[env], "controlplane");
            for (const file of ["/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/scheduler.conf", "/etc/kubernetes/bootstrap-kubelet.conf"]) {
                expect(parse(files.get(file)!.content).clusters[0].cluster.server, file).to.equal("https://127.0.0.1:6443");
            }
        });

        it(`${env}: every launch template requires IMDSv2 and encrypts its volumes with the cluster key`, () => {
            const ev = stacks[env];
            const keyArn = ev.outputs.kmsKeyArn.value;
            const templates = ofType(ev, "aws:ec2/launchTemplate:LaunchTemplate");
            expect(templates.length).to.be.greaterThan(2);
            for (const lt of templates) {
                expect(lt.inputs.metadataOptions.httpTokens, lt.name).to.equal("required");
                for (const mapping of lt.inputs.blockDeviceMappings) {
                    expect(mapping.ebs.encrypted, lt.name).to.equal("true");
                    expect(mapping.ebs.kmsKeyId, lt.name).to.equal(keyArn);
                }
            }
            const controlPlaneLt = templates.find((lt) => lt.inputs.tags["kaws:role"] === "controlplane")!;
            expect(controlPlaneLt.inputs.metadataOptions.httpPutResponseHopLimit).to.equal(1);
        });

        it(`${env}: no secret reaches user data`, () => {
            const ev = stacks[env];
            const tokenSecret = bootstrapTokenOf(ev).secret;
            expect(tokenSecret).to.match(/^[a-z0-9]{16}$/);
            for (const lt of ofType(ev, "aws:ec2/launchTemplate:LaunchTemplate")) {
                const userData = Buffer.from(lt.inputs.userData, "base64").toString("utf8");
                expect(userData.includes(tokenSecret), lt.name).to.equal(false);
                expect(userData.includes(Buffer.from(tokenSecret).toString("base64")), `${lt.name}: base64 of the token`).to.equal(false);
                expect(userData, lt.name).to.not.match(/PRIVATE KEY|token-secret/);
            }
        });

        it(`${env}: node policies have no wildcard action, and workers cannot touch load balancers or volumes`, () => {
            for (const policy of ofType(stacks[env], "aws:iam/rolePolicy:RolePolicy")) {
                const statements: { Action: string[] }[] = JSON.parse(policy.inputs.policy).Statement;
                for (const action of statements.flatMap((s) => s.Action)) expect(action === "*" || action.endsWith(":*"), `${policy.name}: ${action}`).to.equal(false);
                if (policy.name.includes("worker-")) {
                    expect(statements.flatMap((s) => s.Action).filter((a) => /^(elasticloadbalancing|autoscaling):|^ec2:(Attach|Create|Delete)/.test(a)), policy.name).to.deep.equal([]);
                }
            }
        });
    }

    it("prod: at least two control-plane instances across AZs, registered with the API load balancer, replaced on EC2 health only (/readyz fails with etcd), one at a time", () => {
        const ev = stacks.prod;
        const asg = ofType(ev, "aws:autoscaling/group:Group").find((g) => g.inputs.name === "kaws-prod-controlplane")!;
        expect(asg.inputs.minSize).to.be.at.least(2);
        expect(asg.inputs.desiredCapacity).to.be.at.least(2);
        const subnets = ofType(ev, "aws:ec2/subnet:Subnet").filter((s) => asg.inputs.vpcZoneIdentifiers.includes(idOf(s)));
        expect(new Set(subnets.map((s) => s.inputs.availabilityZone)).size).to.be.at.least(2);
        expect(subnets.every((s) => s.inputs.mapPublicIpOnLaunch !== true)).to.equal(true);
        const targetGroup = ofType(ev, "aws:lb/targetGroup:TargetGroup")[0];
        expect(asg.inputs.targetGroupArns).to.deep.equal([`arn:aws:lb:eu-west-1:000000000000:placeholder/${targetGroup.name}`]);
        const listeners = ofType(ev, "aws:lb/listener:Listener");
        expect(listeners.map((l) => JSON.stringify(l.inputs))).to.satisfy((all: string[]) => all.some((l) => l.includes(asg.inputs.targetGroupArns[0])));
        expect(asg.inputs.healthCheckType).to.equal("EC2");
        expect(asg.inputs.healthCheckGracePeriod).to.be.greaterThan(0);
        expect(asg.inputs.instanceRefresh.preferences.minHealthyPercentage).to.equal(oneAtATime(asg.inputs.desiredCapacity).minHealthyPercentage);
        expect(asg.inputs.instanceRefresh.preferences.skipMatching).to.equal(true);
    });

    it("oneAtATime keeps all but one instance healthy (rounded up), and launches first for a single instance", () => {
        for (let count = 2; count <= 9; count++) {
            const { minHealthyPercentage, checkpointPercentages } = oneAtATime(count);
            expect(count - Math.ceil((count * minHealthyPercentage) / 100), `count ${count}`).to.equal(1);
            expect(checkpointPercentages).to.have.length(count);
            expect(checkpointPercentages[count - 1]).to.equal(100);
        }
        expect(oneAtATime(1)).to.include({ minHealthyPercentage: 100, maxHealthyPercentage: 200 });
        expect(() => oneAtATime(0)).to.throw(/positive integer/);
    });
});
