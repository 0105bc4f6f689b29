import { expect } from "chai";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Evaluation } from "../../automation/offline/engine";
import { evaluate, roleFiles } from "../harness";
import { toolAvailable } from "../tools";

// Three real etcd members (Debian etcd 3.4) started from the configuration the program renders for prod
// members, with only addresses, ports and paths rewritten for loopback, and the certificates the PKI issues.

const etcdClientCertPath = "/etc/kubernetes/pki/apiserver-etcd-client";
const stepTimeoutMs = 8_000;

interface Member {
    readonly name: string;
    /** The rewritten ETCD_* environment this member runs with. */
    env: Record<string, string>;
    readonly clientUrl: string;
    process?: ChildProcess;
    log: string;
}

function nodeFile(ev: Evaluation, role: string, nodePath: string): string | undefined {
    return roleFiles(ev, role).get(nodePath)?.content;
}

function parseEnvironment(content: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const line of content.split("\n")) {
        if (line.trim() === "" || line.startsWith("#")) continue;
        const match = /^(ETCD_[A-Z0-9_]+)=(.*)$/.exec(line);
        if (!match) throw new Error(`not an ETCD_ assignment: ${line}`);
        env[match[1]] = match[2];
    }
    return env;
}

function etcdctl(args: string[], timeoutMs = stepTimeoutMs) {
    const run = spawnSync("etcdctl", ["--dial-timeout=2s", `--command-timeout=${Math.floor(timeoutMs / 1000) - 1}s`, ...args], {
        env: { PATH: process.env.PATH, ETCDCTL_API: "3" },
        timeout: timeoutMs,
        encoding: "utf8",
    });
    return { ok: run.status === 0, stdout: run.stdout ?? "", stderr: run.stderr ?? "" };
}

async function until(what: string, check: () => boolean, timeoutMs = stepTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (check()) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Every etcd this file starts; killed at the end, and on exit whatever happened. */
const running = new Set<ChildProcess>();
process.once("exit", () => running.forEach((child) => child.kill("SIGKILL")));

describe("etcd members from the rendered configuration (real etcd)", function () {
    this.timeout(12_000);
    const members: Member[] = [];
    let prod: Evaluation;
    let work: string;
    let tls: string[];
    let memberIps: string[];
    let finished = false;

    const start = (member: Member) => {
        if (finished) throw new Error(`not starting ${member.name}: the suite is over`);
        member.log = "";
        const child = spawn("etcd", [], { env: { PATH: process.env.PATH, ...member.env }, stdio: ["ignore", "pipe", "pipe"] });
        running.add(child);
        child.once("exit", () => running.delete(child));
        const keep = (chunk: Buffer) => { member.log = (member.log + chunk.toString()).slice(-4000); };
        child.stdout!.on("data", keep);
        child.stderr!.on("data", keep);
        member.process = child;
    };
    const stop = async (member: Member) => {
        const child = member.process;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    };
    const healthy = (endpoints: string[]) => etcdctl([`--endpoints=${endpoints.join(",")}`, ...tls, "endpoint", "health"], 4000).ok;
    const logs = () => members.map((m) => `--- ${m.name}\n${m.log}`).join("\n");

    before(async function () {
        // The first evaluation in a process pays for loading the Pulumi and AWS modules.
        this.timeout(30_000);
        if (!toolAvailable("etcd", this, ["--version"]) || !toolAvailable("etcdctl", this, ["version"])) return;
        prod = await evaluate("prod");
    });

    before(async function () {
        if (prod === undefined) this.skip();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-etcd-"));
        const roles = ["etcd-0", "etcd-1", "etcd-2"];
        const rendered = roles.map((role) => parseEnvironment(nodeFile(prod, role, "/etc/etcd/etcd.env")!));
        memberIps = rendered.map((env) => new URL(env.ETCD_ADVERTISE_CLIENT_URLS).hostname);

        // Certificates: what the program delivers to the members and to the control plane (one CA).
        const pki = (role: string, nodePath: string) => nodeFile(prod, role, nodePath);
        const write = (file: string, content: string | undefined) => {
            if (content === undefined) throw new Error(`no content for ${file}`);
            fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
            fs.writeFileSync(file, content, { mode: 0o600 });
        };
        write(path.join(work, "client", "ca.crt"), pki("etcd-0", "/etc/etcd/pki/ca.crt"));
        write(path.join(work, "client", "client.crt"), pki("controlplane", `${etcdClientCertPath}.crt`));
        write(path.join(work, "client", "client.key"), pki("controlplane", `${etcdClientCertPath}.key`));
        tls = [`--cacert=${work}/client/ca.crt`, `--cert=${work}/client/client.crt`, `--key=${work}/client/client.key`];
        // A client certificate of the cluster CA: valid for the API, never for etcd (CIS 2.7, a unique etcd CA).
        write(path.join(work, "foreign", "client.crt"), pki("controlplane", "/etc/kubernetes/pki/apiserver-kubelet-client.crt"));
        write(path.join(work, "foreign", "client.key"), pki("controlplane", "/etc/kubernetes/pki/apiserver-kubelet-client.key"));

        // Loopback ports per member: client (advertised), client (local listener), peer, metrics.
        const base = 20000 + (process.pid % 400) * 20;
        const ports = roles.map((_, i) => ({ client: base + i * 4, local: base + i * 4 + 1, peer: base + i * 4 + 2, metrics: base + i * 4 + 3 }));
        roles.forEach((role, i) => {
            for (const file of ["ca.crt", "server.crt", "server.key", "peer.crt", "peer.key"]) {
                write(path.join(work, role, "pki", file), pki(role, `/etc/etcd/pki/${file}`));
            }
            fs.mkdirSync(path.join(work, role, "data"), { mode: 0o700 });
            const rewrite = (value: string) => {
                let out = value;
                memberIps.forEach((ip, j) => {
                    out = out.split(`https://${ip}:2379`).join(`https://127.0.0.1:${ports[j].client}`);
                    out = out.split(`https://${ip}:2380`).join(`https://127.0.0.1:${ports[j].peer}`);
                });
                return out
                    .split("https://127.0.0.1:2379").join(`https://127.0.0.1:${ports[i].local}`)
                    .split("http://127.0.0.1:2381").join(`http://127.0.0.1:${ports[i].metrics}`)
                    .split("/etc/etcd/pki/").join(`${work}/${role}/pki/`)
                    .split("/var/lib/etcd").join(`${work}/${role}/data`);
            };
            const env = Object.fromEntries(Object.entries(rendered[i]).map(([k, v]) => [k, rewrite(v)]));
            // What the boot script writes for a blank data volume.
            env.ETCD_INITIAL_CLUSTER_STATE = "new";
            members.push({ name: role, env, clientUrl: `https://127.0.0.1:${ports[i].client}`, log: "" });
        });

        // Only addresses, ports and paths changed: every other setting is exactly as rendered.
        members.forEach((member, i) => {
            for (const [key, value] of Object.entries(rendered[i])) {
                if (!/(URLS|CLUSTER|FILE|DIR)$/.test(key)) expect(member.env[key], key).to.equal(value);
            }
        });

        members.forEach(start);
        await until("all three members healthy", () => healthy(members.map((m) => m.clientUrl)), 10_000)
            .catch((err) => { throw new Error(`${err.message}\n${logs()}`); });
    });

    after(async () => {
        finished = true;
        await Promise.all(members.map(stop));
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("runs with the rendered TLS, timing and quota settings", () => {
        const env = members[0].env;
        expect(env.ETCD_CLIENT_CERT_AUTH).to.equal("true");
        expect(env.ETCD_PEER_CLIENT_CERT_AUTH).to.equal("true");
        expect(env.ETCD_AUTO_TLS).to.equal("false");
        const list = etcdctl([`--endpoints=${members[0].clientUrl}`, ...tls, "member", "list", "-w", "json"]);
        expect(list.ok, list.stderr).to.equal(true);
        const peers = JSON.parse(list.stdout).members.map((m: { name: string; peerURLs: string[] }) => [m.name, m.peerURLs[0].startsWith("https://")]);
        expect(peers.sort()).to.deep.equal([["etcd-0", true], ["etcd-1", true], ["etcd-2", true]]);
    });

    it("rejects a client without a certificate, and one with a cluster-CA certificate", () => {
        const anonymous = etcdctl([`--endpoints=${members[0].clientUrl}`, `--cacert=${work}/client/ca.crt`, "get", "kaws/anything"], 3000);
        expect(anonymous.ok).to.equal(false);
        const foreign = etcdctl([`--endpoints=${members[0].clientUrl}`, `--cacert=${work}/client/ca.crt`,
            `--cert=${work}/foreign/client.crt`, `--key=${work}/foreign/client.key`, "get", "kaws/anything"], 3000);
        expect(foreign.ok).to.equal(false);
        // With a certificate the same request works: the refusal is about the certificate.
        expect(etcdctl([`--endpoints=${members[0].clientUrl}`, ...tls, "get", "kaws/anything"]).ok).to.equal(true);
    });

    it("lets the apiserver-etcd-client certificate write and read", () => {
        const endpoints = `--endpoints=${members.map((m) => m.clientUrl).join(",")}`;
        expect(etcdctl([endpoints, ...tls, "put", "kaws/written-by-apiserver", "v1"]).ok).to.equal(true);
        const read = etcdctl([`--endpoints=${members[2].clientUrl}`, ...tls, "get", "kaws/written-by-apiserver", "--print-value-only"]);
        expect(read.stdout.trim()).to.equal("v1");
    });

    it("stays writable with one member killed, and the member rejoins from its data dir", async () => {
        const [first, second, lost] = members;
        await stop(lost);
        const survivors = `--endpoints=${first.clientUrl},${second.clientUrl}`;
        await until("a write with one member down", () => etcdctl([survivors, ...tls, "put", "kaws/while-one-down", "still-writable"], 4000).ok);

        // What the boot script does when the volume holds data: same configuration, state "existing".
        expect(fs.existsSync(path.join(lost.env.ETCD_DATA_DIR, "member"))).to.equal(true);
        lost.env = { ...lost.env, ETCD_INITIAL_CLUSTER_STATE: "existing" };
        start(lost);
        await until("the restarted member to serve the write it missed", () => etcdctl([`--endpoints=${lost.clientUrl}`, ...tls,
            "get", "kaws/while-one-down", "--print-value-only", "--consistency=s"], 3000).stdout.trim() === "still-writable")
            .catch((err) => { throw new Error(`${err.message}\n${logs()}`); });
        expect(healthy(members.map((m) => m.clientUrl))).to.equal(true);
    });

    it("restores a snapshot into fresh data dirs and gives back its keys (and only them)", async () => {
        const all = `--endpoints=${members.map((m) => m.clientUrl).join(",")}`;
        expect(etcdctl([all, ...tls, "put", "kaws/before-snapshot", "kept"]).ok).to.equal(true);
        const snapshot = path.join(work, "snapshot.db");
        const saved = etcdctl([`--endpoints=${members[0].clientUrl}`, ...tls, "snapshot", "save", snapshot]);
        expect(saved.ok, saved.stderr).to.equal(true);
        expect(etcdctl([all, ...tls, "put", "kaws/after-snapshot", "lost"]).ok).to.equal(true);

        // The restore script's steps with etcd 3.4's etcdctl (3.6 members use etcdutl with --bump-revision
        // and --mark-compacted): stop every member, restore each with its own identity, start them.
        await Promise.all(members.map(stop));
        for (const member of members) {
            const restoredDir = `${member.env.ETCD_DATA_DIR}-restored`;
            const restore = etcdctl(["snapshot", "restore", snapshot,
                `--name=${member.env.ETCD_NAME}`,
                `--initial-cluster=${member.env.ETCD_INITIAL_CLUSTER}`,
                `--initial-cluster-token=${member.env.ETCD_INITIAL_CLUSTER_TOKEN}`,
                `--initial-advertise-peer-urls=${member.env.ETCD_INITIAL_ADVERTISE_PEER_URLS}`,
                `--data-dir=${restoredDir}`]);
            expect(restore.ok, restore.stderr).to.equal(true);
            member.env = { ...member.env, ETCD_DATA_DIR: restoredDir, ETCD_INITIAL_CLUSTER_STATE: "existing" };
            start(member);
        }
        await until("the restored cluster to be healthy", () => healthy(members.map((m) => m.clientUrl)), 10_000)
            .catch((err) => { throw new Error(`${err.message}\n${logs()}`); });
        const keys = etcdctl([all, ...tls, "get", "kaws/", "--prefix", "--keys-only"]).stdout.split("\n").filter(Boolean).sort();
        expect(keys).to.deep.equal(["kaws/before-snapshot", "kaws/while-one-down", "kaws/written-by-apiserver"]);
    });
});
