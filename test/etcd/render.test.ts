import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { parse as parseCsv } from "csv-parse/sync";
import {
    EtcdPeer, etcdPaths, etcdQuotaBytes, renderEtcdBootScript, renderEtcdBootUnit, renderEtcdEnvironment, renderEtcdRestoreScript,
    renderEtcdSnapshotScript, renderEtcdSnapshotService, renderEtcdSnapshotTimer, renderEtcdUnit, renderEtcdUserData,
} from "../../etcd/render";
import { renderFetchFilesScript } from "../../nodes/fileDelivery";
import { etcdReleaseSha256 } from "../../plan/versions";
import { fixturePath } from "../harness";
import { toolAvailable } from "../tools";
import { headerLines, withHeaderValues } from "../shellHeader";

const fixtures = fixturePath();
const etcd36 = JSON.parse(fs.readFileSync(path.join(fixtures, "etcd-v3.6.14-flags.json"), "utf8")) as {
    server: string[]; etcdutlSnapshotRestore: string[]; etcdctlGlobal: string[]; etcdutlGlobal: string[];
};
const cis = parseCsv(fs.readFileSync(path.join(fixtures, "cis-k8s-checks.csv"), "utf8"), { columns: true }) as Record<string, string>[];
const cisRow = (id: string) => {
    const row = cis.find((r) => r.id === id);
    if (!row) throw new Error(`CIS ${id} missing from the fixture`);
    return row;
};

const members: EtcdPeer[] = [
    { name: "etcd-0", ip: "10.16.0.10" },
    { name: "etcd-1", ip: "10.16.32.10" },
    { name: "etcd-2", ip: "10.16.64.10" },
];
const region = "eu-west-1";
const bucket = "kaws-prod-assets-example";
const kmsKeyArn = "arn:aws:kms:eu-west-1:000000000000:key/example";

function environment(index: number, cluster = members): Record<string, string> {
    const text = renderEtcdEnvironment({ clusterName: "kaws-prod", member: cluster[index], members: cluster, quotaBackendBytes: etcdQuotaBytes(20) });
    return Object.fromEntries(text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => {
        const at = l.indexOf("=");
        return [l.slice(0, at), l.slice(at + 1)];
    }));
}

function bootScript(index: number): string {
    return renderEtcdBootScript({
        clusterName: "kaws-prod",
        member: members[index],
        subnetCidr: "10.16.0.0/19",
        peerIps: members.filter((_, i) => i !== index).map((m) => m.ip),
        etcdVersion: "3.6.14",
        etcdSha256: etcdReleaseSha256["3.6.14"],
    });
}

function userData(index: number): string {
    return renderEtcdUserData(bootScript(index), renderFetchFilesScript(bucket, members[index].name, region));
}

const scripts = (): Record<string, string> => {
    const fromUserData = (YAML.parse(userData(0).replace(/^#cloud-config\n/, "")).write_files as { path: string; content: string }[])
        .filter((f) => f.content.startsWith("#!/bin/bash"));
    expect(fromUserData.map((f) => f.path).sort()).to.deep.equal([etcdPaths.bootScript, etcdPaths.fetchScript].sort());
    return {
        ...Object.fromEntries(fromUserData.map((f) => [`user-data:${f.path}`, f.content])),
        [etcdPaths.snapshotScript]: renderEtcdSnapshotScript({ member: "etcd-0", bucket, region, kmsKeyArn, prefix: "backups/etcd/" }),
        [etcdPaths.restoreScript]: renderEtcdRestoreScript(region),
    };
};

/** Long options in one command of a script: from `start` to the end of its line continuations. */
function optionsOf(script: string, start: string): string[] {
    const at = script.indexOf(start);
    expect(at, start).to.be.greaterThan(-1);
    const command = script.slice(at).split(/(?<!\\)\n/)[0];
    return [...command.matchAll(/\s--([a-z][a-z0-9-]*)/g)].map((m) => m[1]);
}

describe("etcd renderers", () => {
    it("gives every member the same initial cluster and its own fixed-IP listeners", () => {
        const envs = members.map((_, i) => environment(i));
        const expectedCluster = members.map((m) => `${m.name}=https://${m.ip}:2380`).join(",");
        envs.forEach((env, i) => {
            expect(env.ETCD_NAME).to.equal(members[i].name);
            expect(env.ETCD_INITIAL_CLUSTER).to.equal(expectedCluster);
            expect(env.ETCD_LISTEN_PEER_URLS).to.equal(`https://${members[i].ip}:2380`);
            expect(env.ETCD_INITIAL_ADVERTISE_PEER_URLS).to.equal(`https://${members[i].ip}:2380`);
            expect(env.ETCD_LISTEN_CLIENT_URLS.split(",")).to.deep.equal([`https://${members[i].ip}:2379`, "https://127.0.0.1:2379"]);
            expect(env.ETCD_LISTEN_METRICS_URLS).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
            expect(env).to.not.have.property("ETCD_INITIAL_CLUSTER_STATE");
        });
        expect(new Set(envs.map((e) => e.ETCD_INITIAL_CLUSTER_TOKEN)).size).to.equal(1);
        expect(() => renderEtcdEnvironment({ clusterName: "x", member: { name: "etcd-9", ip: "10.0.0.9" }, members, quotaBackendBytes: 1 }))
            .to.throw(/etcd-9 .* is not in the member list/);
    });

    it("meets CIS 2.1-2.6: certificates both ways, client and peer certificate auth on, no auto TLS", () => {
        const env = environment(0);
        for (const id of ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7"]) {
            const row = cisRow(id);
            const variables = [...row.kube_bench_test.matchAll(/env=(ETCD_[A-Z_]+)/g)].map((m) => m[1]);
            expect(variables, `CIS ${id} names its variables`).to.not.be.empty;
            for (const variable of variables) {
                if (row.expected === "true") expect(env[variable], `CIS ${id} ${variable}`).to.equal("true");
                else if (row.expected.startsWith("false or absent")) expect(env[variable] ?? "false", `CIS ${id} ${variable}`).to.equal("false");
                else expect(env[variable], `CIS ${id} ${variable}`).to.match(/^\/etc\/etcd\/pki\/\S+$/);
            }
        }
        expect(env.ETCD_PEER_TRUSTED_CA_FILE).to.equal(env.ETCD_TRUSTED_CA_FILE);
        for (const url of [env.ETCD_LISTEN_PEER_URLS, ...env.ETCD_LISTEN_CLIENT_URLS.split(","), env.ETCD_ADVERTISE_CLIENT_URLS]) {
            expect(url).to.match(/^https:\/\//);
        }
    });

    it("sets raft timing for cross-AZ members, a quota and periodic compaction", () => {
        const env = environment(0);
        const heartbeat = Number(env.ETCD_HEARTBEAT_INTERVAL);
        const election = Number(env.ETCD_ELECTION_TIMEOUT);
        expect(heartbeat).to.be.greaterThan(100);
        expect(election).to.be.at.least(10 * heartbeat);
        expect(Number(env.ETCD_QUOTA_BACKEND_BYTES)).to.equal(8 * 1024 ** 3);
        expect(etcdQuotaBytes(10)).to.equal(5 * 1024 ** 3);
        expect(etcdQuotaBytes(1024)).to.equal(8 * 1024 ** 3);
        expect(env.ETCD_AUTO_COMPACTION_MODE).to.equal("periodic");
        expect(env.ETCD_AUTO_COMPACTION_RETENTION).to.match(/^\d+[hm]$/);
    });

    it("uses only server flags that both etcd 3.6.14 (deployed) and the installed etcd 3.4 know", function () {
        const flags = Object.keys(environment(0)).map((k) => k.replace(/^ETCD_/, "").toLowerCase().replace(/_/g, "-"));
        flags.push("initial-cluster-state");
        for (const flag of flags) expect(etcd36.server, `--${flag} in etcd 3.6.14`).to.include(flag);
        if (!toolAvailable("etcd", this, ["--version"])) return;
        const help = spawnSync("etcd", ["--help"], { encoding: "utf8", timeout: 10_000 });
        const installed = new Set([...`${help.stdout}${help.stderr}`.matchAll(/^\s+--([a-z0-9-]+)/gm)].map((m) => m[1]));
        expect(installed.size).to.be.greaterThan(50);
        for (const flag of flags) expect(installed.has(flag), `--${flag} in the installed etcd`).to.equal(true);
    });

    it("restores and snapshots with etcdutl/etcdctl options that exist in 3.6.14", () => {
        const restore = renderEtcdRestoreScript(region);
        const restoreOptions = optionsOf(restore, "etcdutl snapshot restore");
        expect(restoreOptions).to.include.members(["bump-revision", "mark-compacted", "name", "initial-cluster", "initial-cluster-token", "initial-advertise-peer-urls", "data-dir"]);
        for (const option of restoreOptions) expect(etcd36.etcdutlSnapshotRestore, `etcdutl snapshot restore --${option}`).to.include(option);
        const snapshot = renderEtcdSnapshotScript({ member: "etcd-0", bucket, region, kmsKeyArn, prefix: "backups/etcd/" });
        for (const option of optionsOf(snapshot, "etcdctl ")) expect(etcd36.etcdctlGlobal, `etcdctl --${option}`).to.include(option);
        for (const option of optionsOf(snapshot, "etcdutl snapshot status")) expect(etcd36.etcdutlGlobal, `etcdutl --${option}`).to.include(option);
    });

    it("uploads snapshots encrypted with the cluster key under the member's backup prefix", () => {
        const snapshot = renderEtcdSnapshotScript({ member: "etcd-1", bucket, region, kmsKeyArn, prefix: "backups/etcd/" });
        const upload = snapshot.slice(snapshot.indexOf("aws s3 cp")).split(/(?<!\\)\n/)[0];
        expect(upload).to.contain('--sse aws:kms --sse-kms-key-id "$KAWS_KMS_KEY_ARN"');
        expect(upload).to.contain('"s3://$KAWS_BUCKET/$KAWS_PREFIX$KAWS_MEMBER/$stamp.db"');
        expect(headerLines(snapshot)).to.include.members([`KAWS_KMS_KEY_ARN=${kmsKeyArn}`, `KAWS_BUCKET=${bucket}`, "KAWS_PREFIX=backups/etcd/", "KAWS_MEMBER=etcd-1"]);
        // Run for real, etcdctl and etcdutl (from the header's bin dir) and aws (from PATH) stubbed.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-etcd-snapshot-"));
        try {
            const log = path.join(dir, "calls");
            const stub = (name: string, body = "") => fs.writeFileSync(path.join(dir, name), `#!/bin/bash\nprintf '%s\\n' "${name} $*" >> "${log}"\n${body}`, { mode: 0o755 });
            stub("etcdctl", `case "$*" in *"endpoint status"*) printf '"MemberID" : 42\\n"Leader" : 42\\n' ;; *) printf db > "\${*: -1}" ;; esac\n`);
            stub("etcdutl", `[ -s "$3" ]\n`);
            stub("aws", `[ -s "\${10}" ]\n`);
            fs.writeFileSync(path.join(dir, "snapshot.sh"), withHeaderValues(snapshot, { KAWS_ETCD_BIN_DIR: dir }));
            const run = spawnSync("bash", [path.join(dir, "snapshot.sh")], { encoding: "utf8", timeout: 10_000, env: { PATH: `${dir}:${process.env.PATH}` } });
            expect(run.status, run.stderr).to.equal(0);
            const calls = fs.readFileSync(log, "utf8").trim().split("\n");
            expect(calls).to.have.length(4);
            const client = "etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/peer.crt --key=/etc/etcd/pki/peer.key";
            expect(calls[0]).to.equal(`${client} endpoint status --write-out=fields`);
            expect(calls[1]).to.match(/^etcdctl --endpoints=https:\/\/127\.0\.0\.1:2379 --cacert=\/etc\/etcd\/pki\/ca\.crt --cert=\/etc\/etcd\/pki\/peer\.crt --key=\/etc\/etcd\/pki\/peer\.key --command-timeout=600s snapshot save \/var\/tmp\/etcd-snapshot\.\w+\/etcd-1-\d{8}T\d{6}Z\.db$/);
            expect(calls[2]).to.match(/^etcdutl snapshot status \/var\/tmp\/etcd-snapshot\.\w+\/etcd-1-\d{8}T\d{6}Z\.db --write-out=table$/);
            const stamp = calls[1].match(/etcd-1-(\d{8}T\d{6}Z)\.db$/)![1];
            expect(calls[3]).to.match(new RegExp(`^aws s3 cp --only-show-errors --region ${region} --sse aws:kms --sse-kms-key-id ${kmsKeyArn} \\S+ s3://${bucket}/backups/etcd/etcd-1/${stamp}\\.db$`));
            expect(run.stdout).to.equal(`uploaded s3://${bucket}/backups/etcd/etcd-1/${stamp}.db\n`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    describe("only the leader snapshots", () => {
        /** Runs the snapshot script with etcdctl answering `endpoint status` with `status`; returns the calls made. */
        const runWithStatus = (status: string) => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-etcd-leader-"));
            try {
                const log = path.join(dir, "calls");
                fs.writeFileSync(path.join(dir, "status"), status);
                const stub = (name: string, body: string) => fs.writeFileSync(path.join(dir, name), `#!/bin/bash\nprintf '%s\\n' "${name} $*" >> "${log}"\n${body}\n`, { mode: 0o755 });
                stub("etcdctl", `case "$*" in *"endpoint status"*) cat "${dir}/status" ;; *) printf db > "\${*: -1}" ;; esac`);
                stub("etcdutl", "true");
                stub("aws", "true");
                const script = renderEtcdSnapshotScript({ member: "etcd-2", bucket, region, kmsKeyArn, prefix: "backups/etcd/" });
                fs.writeFileSync(path.join(dir, "snapshot.sh"), withHeaderValues(script, { KAWS_ETCD_BIN_DIR: dir }));
                const run = spawnSync("bash", [path.join(dir, "snapshot.sh")], { encoding: "utf8", timeout: 10_000, env: { PATH: `${dir}:${process.env.PATH}` } });
                const calls = fs.readFileSync(log, "utf8").trim().split("\n").map((c) => c.split(" ").find((w) => ["status", "save", "cp"].includes(w)) ?? c);
                return { run, calls };
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        };

        it("a follower saves and uploads nothing and exits cleanly; an unreadable status uploads nothing either", () => {
            const follower = runWithStatus('"MemberID" : 7\n"Leader" : 42\n');
            expect(follower.run.status, follower.run.stderr).to.equal(0);
            expect(follower.calls).to.deep.equal(["status"]);
            expect(follower.run.stdout).to.equal("etcd-2 is not the leader (member 7, leader 42): no snapshot from here\n");
            const garbled = runWithStatus("unexpected\n");
            expect(garbled.run.status).to.equal(0);
            expect(garbled.calls).to.deep.equal(["status"]);
        });

        it("reads the leader from real etcdctl output (a running single-member etcd leads itself)", function () {
            if (!toolAvailable("etcd", this, ["--version"]) || !toolAvailable("etcdctl", this, ["version"])) return;
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-etcd-status-"));
            const ports = [22379 + Math.floor(Math.random() * 1000), 24379 + Math.floor(Math.random() * 1000)];
            const server = require("child_process").spawn("etcd", ["--data-dir", path.join(dir, "data"), "--listen-client-urls", `http://127.0.0.1:${ports[0]}`,
                "--advertise-client-urls", `http://127.0.0.1:${ports[0]}`, "--listen-peer-urls", `http://127.0.0.1:${ports[1]}`,
                "--initial-advertise-peer-urls", `http://127.0.0.1:${ports[1]}`, "--initial-cluster", `default=http://127.0.0.1:${ports[1]}`], { stdio: "ignore" });
            try {
                let status = "";
                for (let i = 0; i < 50 && !/"Leader" : [1-9]/.test(status); i++) {
                    spawnSync("sleep", ["0.2"]);
                    status = spawnSync("etcdctl", [`--endpoints=http://127.0.0.1:${ports[0]}`, "endpoint", "status", "--write-out=fields"], { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } }).stdout;
                }
                expect(status).to.match(/"MemberID" : \d+/);
                const leader = runWithStatus(status);
                expect(leader.run.status, leader.run.stderr).to.equal(0);
                expect(leader.calls).to.deep.equal(["status", "save", "status", "cp"]);
            } finally {
                server.kill();
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    it("passes shellcheck: boot and fetch scripts (from the user data), snapshot and restore scripts", function () {
        if (!toolAvailable("shellcheck", this, ["--version"])) return;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-etcd-sh-"));
        try {
            for (const [name, content] of Object.entries(scripts())) {
                const file = path.join(dir, path.basename(name));
                fs.writeFileSync(file, content);
                const check = spawnSync("shellcheck", ["--shell=bash", "--severity=style", file], { encoding: "utf8", timeout: 20_000 });
                expect(check.status, `${name}\n${check.stdout}`).to.equal(0);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("produces user data cloud-init accepts, with no key material, for every member", function () {
        if (!toolAvailable("cloud-init", this, ["--version"])) return;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-etcd-ci-"));
        try {
            members.forEach((member, i) => {
                const file = path.join(dir, `${member.name}.yaml`);
                const data = userData(i);
                expect(data).to.not.match(/PRIVATE KEY/);
                fs.writeFileSync(file, data);
                const schema = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8", timeout: 30_000 });
                expect(schema.status, `${member.name}: ${schema.stdout}${schema.stderr}`).to.equal(0);
            });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses to render a boot script without a real etcd checksum", () => {
        expect(() => renderEtcdBootScript({
            clusterName: "kaws-dev", member: members[0], subnetCidr: "10.16.0.0/19", peerIps: [], etcdVersion: "3.6.14",
            etcdSha256: { amd64: etcdReleaseSha256["3.6.14"].amd64, arm64: "FILL-ME-FROM-SHA256SUMS" },
        })).to.throw(/arm64.*SHA256SUMS/);
        const script = bootScript(0);
        for (const sum of Object.values(etcdReleaseSha256["3.6.14"])) expect(script).to.contain(sum);
        expect(script).to.contain("https://github.com/etcd-io/etcd/releases/download/v$etcd_version/$archive.tar.gz");
        expect(script).to.match(/sha256sum --check/);
    });

    it("passes systemd-analyze verify: etcd, snapshot service and timer, boot unit", function () {
        if (!toolAvailable("systemd-analyze", this, ["--version"])) return;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-etcd-units-"));
        // The node gets etcd and the kaws scripts at boot; this host has neither, so they become a stub.
        const stub = path.join(dir, "stub");
        fs.writeFileSync(stub, "#!/bin/sh\n", { mode: 0o755 });
        const units: Record<string, string> = {
            "etcd.service": renderEtcdUnit(),
            "kaws-etcd-snapshot.service": renderEtcdSnapshotService(),
            "kaws-etcd-snapshot.timer": renderEtcdSnapshotTimer(30),
            "kaws-etcd-boot.service": renderEtcdBootUnit(),
        };
        const verify = (files: Record<string, string>) => {
            const paths = Object.entries(files).map(([name, content]) => {
                const file = path.join(dir, name);
                fs.writeFileSync(file, content.replace(/^(Exec\w+=)(\/usr\/local\/\S+)/gm, (line, key, exe) => (fs.existsSync(exe) ? line : `${key}${stub}`)));
                return file;
            });
            const run = spawnSync("systemd-analyze", ["verify", ...paths], { encoding: "utf8", timeout: 30_000 });
            return { status: run.status, ours: `${run.stdout}${run.stderr}`.split("\n").filter((l) => l.includes(dir)) };
        };
        try {
            const result = verify(units);
            expect(result.status).to.equal(0);
            expect(result.ours).to.deep.equal([]);
            // The check above would notice a broken unit.
            const broken = verify({ "broken.service": renderEtcdUnit().replace("Restart=always", "Restart=sometimes") });
            expect(broken.ours).to.have.length.greaterThan(0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("snapshots on the configured interval and rejects a meaningless one", () => {
        expect(renderEtcdSnapshotTimer(45)).to.match(/^OnUnitActiveSec=45min$/m);
        expect(() => renderEtcdSnapshotTimer(0)).to.throw(/positive whole number/);
    });

    it("keeps the data dir 0700 and owned by a dedicated etcd user (CIS 1.1.11, 1.1.12); etcd runs as that user", () => {
        const mode = cisRow("1.1.11").expected;
        const owner = cisRow("1.1.12").expected.split(" ")[0];
        const boot = bootScript(0);
        expect(boot).to.contain("useradd --system");
        expect(boot).to.contain(`chown ${owner} "$data_dir"`);
        expect(boot).to.contain(`chmod ${mode} "$data_dir"`);
        const restore = renderEtcdRestoreScript(region);
        expect(restore).to.contain(`chown -R ${owner} "$ETCD_DATA_DIR"`);
        expect(restore).to.contain(`chmod ${mode} "$ETCD_DATA_DIR"`);
        const unit = renderEtcdUnit();
        expect(unit).to.match(/^User=etcd$/m);
        expect(unit).to.match(new RegExp(`^ReadWritePaths=${etcdPaths.dataDir}$`, "m"));
        expect(unit).to.match(new RegExp(`^ExecStartPre=/usr/bin/mountpoint -q ${etcdPaths.dataDir}$`, "m"));
    });

    it("restore refuses to run while etcd is running, and without a snapshot argument", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-etcd-restore-"));
        try {
            const script = path.join(dir, "restore");
            fs.writeFileSync(script, renderEtcdRestoreScript(region), { mode: 0o755 });
            // A systemctl that reports etcd active; nothing else may be called before the refusal.
            fs.writeFileSync(path.join(dir, "systemctl"), "#!/bin/sh\n[ \"$1\" = is-active ] && exit 0\necho \"unexpected systemctl $*\" >&2; exit 99\n", { mode: 0o755 });
            const env = { PATH: `${dir}:${process.env.PATH}` };
            const running = spawnSync("bash", [script, "s3://b/backups/etcd/etcd-0/x.db"], { env, encoding: "utf8", timeout: 10_000 });
            expect(running.status).to.equal(1);
            expect(running.stderr).to.match(/stop it on EVERY member first/);
            const usage = spawnSync("bash", [script], { env, encoding: "utf8", timeout: 10_000 });
            expect(usage.status).to.equal(2);
            expect(usage.stderr).to.match(/^usage: /);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

/**
 * Runs the rendered boot script for real, as root in a private mount namespace where /etc, /usr/local/bin,
 * /usr/local/sbin, /var/lib, /sys/class/net and /dev are sandbox folders, with stubs standing in for AWS
 * (aws, curl to IMDS and GitHub) and for what touches real hardware (ip, blkid, mkfs.xfs, mount, useradd,
 * chown, systemctl). Every stub appends to one event log, so order is checked too.
 */
describe("etcd boot script (sandboxed run)", function () {
    this.timeout(20_000);
    const eniMac = "0a:00:00:00:00:02";
    /** A fourth member in etcd-0's subnet (five members over three AZs put two in one subnet). */
    const sameSubnetPeer = "10.16.0.11";
    const deviceLink = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc";
    let release: string;
    let releaseSha256: string;
    let work: string;

    const stubs: Record<string, string> = {
        curl: `case "$*" in
  *api/token*) echo token ;;
  *meta-data/instance-id*) echo i-new ;;
  *meta-data/placement/region*) echo eu-west-1 ;;
  *github.com/etcd-io/etcd/releases/download/*)
    event "download \${*: -1}"
    while [ "$#" -gt 0 ]; do if [ "$1" = -o ]; then cp "$SANDBOX/release.tar.gz" "$2"; fi; shift; done ;;
  *) exit 22 ;;
esac`,
        aws: `held() {
  if [ -f "$SANDBOX/state/$1.attached" ]; then echo "in-use i-new"
  elif [ "$(cat "$SANDBOX/state/$1.busy")" -gt 0 ]; then echo $(($(cat "$SANDBOX/state/$1.busy") - 1)) > "$SANDBOX/state/$1.busy"; echo "in-use i-old"
  else echo "available None"; fi
}
case "$*" in
  *describe-network-interfaces*--filters*) echo eni-0123 ;;
  *describe-volumes*--filters*) echo vol-0abc ;;
  *MacAddress*) echo ${eniMac} ;;
  *describe-network-interfaces*) held eni ;;
  *describe-volumes*) held vol ;;
  *attach-network-interface*) event "aws $*"; touch "$SANDBOX/state/eni.attached" ;;
  *attach-volume*) event "aws $*"; touch "$SANDBOX/state/vol.attached" ;;
  *) event "aws unexpected $*"; exit 1 ;;
esac`,
        ip: `case "$*" in
  "-4 -o addr show dev ens6") echo "3: ens6    inet 10.16.0.10/19 brd 10.16.31.255 scope global dynamic ens6" ;;
  "-4 route show default") echo "default via 10.16.0.1 dev eth0 proto dhcp src 10.16.0.50 metric 512" ;;
  *) event "ip $*" ;;
esac`,
        blkid: `exit "$(cat "$SANDBOX/state/blkid")"`,
        "mkfs.xfs": `event "mkfs.xfs $*"`,
        mountpoint: `[ -f "$SANDBOX/state/mounted" ]`,
        mount: `event "mount $*"; touch "$SANDBOX/state/mounted"`,
        id: `[ -f "$SANDBOX/state/etcd-user" ]`,
        useradd: `event "useradd $*"; touch "$SANDBOX/state/etcd-user"`,
        chown: `event "chown $*"`,
        systemctl: `event "systemctl $*"`,
        xfs_growfs: `event "xfs_growfs $*"`,
        sleep: "true",
    };

    interface Run { status: number | null; stderr: string; events: string[]; sandbox: string }

    /** The release's etcd reports its version; its etcdctl answers `member list` only while a cluster runs. */
    const fakeBinary = `#!/bin/bash
case "$(basename "$0")" in
  etcd) echo "etcd Version: 3.6.14" ;;
  etcdctl) echo "etcdctl $*" >> "$SANDBOX/state/events"; [ -f "$SANDBOX/state/members" ] && cat "$SANDBOX/state/members" ;;
esac
`;

    function run(scenario: { blkid: number; busyPolls: number; dataPresent: boolean; etcdInstalled: boolean; sha256: string; runningCluster?: string }): Run {
        const s = fs.mkdtempSync(path.join(work, "sandbox-"));
        const mk = (dir: string) => fs.mkdirSync(path.join(s, dir), { recursive: true });
        ["stubs", "state", "bin", "sbin", "varlib", "net/eth0", "net/ens6", "dev/disk/by-id"].forEach(mk);
        expect(spawnSync("cp", ["-a", "/etc", path.join(s, "etc")]).status).to.equal(0);
        const event = `event() { echo "$*" >> "$SANDBOX/state/events"; }\n`;
        for (const [name, body] of Object.entries(stubs)) fs.writeFileSync(path.join(s, "stubs", name), `#!/bin/bash\n${event}${body}\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(s, "sbin", "kaws-fetch-files"), "#!/bin/bash\nmkdir -p /etc/etcd\necho fetch >> \"$SANDBOX/state/events\"\n", { mode: 0o755 });
        fs.writeFileSync(path.join(s, "net/eth0/address"), "0a:00:00:00:00:01\n");
        fs.writeFileSync(path.join(s, "net/ens6/address"), `${eniMac}\n`);
        const dev = path.join(s, "dev");
        expect(spawnSync("mknod", ["-m", "666", path.join(dev, "null"), "c", "1", "3"]).status).to.equal(0);
        expect(spawnSync("mknod", [path.join(dev, deviceLink.slice("/dev/".length)), "b", "7", "200"]).status).to.equal(0);
        fs.symlinkSync("/proc/self/fd", path.join(dev, "fd"));
        fs.writeFileSync(path.join(s, "state/blkid"), String(scenario.blkid));
        fs.writeFileSync(path.join(s, "state/eni.busy"), String(scenario.busyPolls));
        fs.writeFileSync(path.join(s, "state/vol.busy"), String(scenario.busyPolls));
        if (scenario.dataPresent) {
            fs.mkdirSync(path.join(s, "varlib/etcd/member"), { recursive: true });
            fs.writeFileSync(path.join(s, "state/etcd-user"), "");
        }
        if (scenario.etcdInstalled) {
            for (const binary of ["etcd", "etcdctl", "etcdutl"]) fs.writeFileSync(path.join(s, "bin", binary), fakeBinary, { mode: 0o755 });
        }
        if (scenario.runningCluster !== undefined) fs.writeFileSync(path.join(s, "state/members"), scenario.runningCluster);
        fs.copyFileSync(release, path.join(s, "release.tar.gz"));
        fs.writeFileSync(path.join(s, "boot.sh"), renderEtcdBootScript({
            clusterName: "kaws-prod", member: members[0], subnetCidr: "10.16.0.0/19", peerIps: [members[1].ip, members[2].ip, sameSubnetPeer],
            etcdVersion: "3.6.14", etcdSha256: { amd64: scenario.sha256, arm64: scenario.sha256 },
        }));
        const harness = `set -e
mount --bind "$SANDBOX/etc" /etc
mount --bind "$SANDBOX/bin" /usr/local/bin
mount --bind "$SANDBOX/sbin" /usr/local/sbin
mount --bind "$SANDBOX/varlib" /var/lib
mount --bind "$SANDBOX/net" /sys/class/net
mount --bind "$SANDBOX/dev" /dev
PATH="$SANDBOX/stubs:$PATH" exec bash "$SANDBOX/boot.sh"
`;
        const result = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", harness], {
            env: { PATH: process.env.PATH, SANDBOX: s }, encoding: "utf8", timeout: 15_000,
        });
        const eventsFile = path.join(s, "state/events");
        const events = fs.existsSync(eventsFile) ? fs.readFileSync(eventsFile, "utf8").split("\n").filter(Boolean) : [];
        return { status: result.status, stderr: result.stderr, events, sandbox: s };
    }

    const indexOf = (r: Run, prefix: string) => {
        const at = r.events.findIndex((e) => e.startsWith(prefix));
        expect(at, `event "${prefix}" in\n${r.events.join("\n")}\n${r.stderr}`).to.be.greaterThan(-1);
        return at;
    };

    before(function () {
        if (process.getuid?.() !== 0 || spawnSync("unshare", ["--mount", "true"]).status !== 0) {
            console.log("      skipped: needs root and unshare --mount to run the boot script in a private mount namespace");
            this.skip();
        }
        work = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-etcd-boot-"));
        const dir = path.join(work, "etcd-v3.6.14-linux-amd64");
        fs.mkdirSync(dir);
        for (const binary of ["etcd", "etcdctl", "etcdutl"]) fs.writeFileSync(path.join(dir, binary), fakeBinary, { mode: 0o755 });
        release = path.join(work, "release.tar.gz");
        expect(spawnSync("tar", ["-czf", release, "-C", work, "etcd-v3.6.14-linux-amd64"]).status).to.equal(0);
        releaseSha256 = spawnSync("sha256sum", [release], { encoding: "utf8" }).stdout.split(" ")[0];
    });

    after(() => {
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("on a blank volume: waits for the old instance to let go, attaches, formats, mounts, installs etcd, starts it as new", () => {
        const r = run({ blkid: 2, busyPolls: 2, dataPresent: false, etcdInstalled: false, sha256: releaseSha256 });
        expect(r.status, `${r.stderr}\n${r.events.join("\n")}`).to.equal(0);
        expect(r.events).to.include("aws ec2 attach-network-interface --network-interface-id eni-0123 --instance-id i-new --device-index 1");
        expect(r.events).to.include("aws ec2 attach-volume --volume-id vol-0abc --instance-id i-new --device /dev/xvdf");
        for (const peer of [members[1].ip, members[2].ip]) expect(r.events).to.include(`ip route replace ${peer}/32 via 10.16.0.1 dev ens6 src ${members[0].ip}`);
        expect(r.events).to.include(`ip route replace ${sameSubnetPeer}/32 dev ens6 src ${members[0].ip}`);
        expect(r.events.filter((e) => e.startsWith("mkfs.xfs"))).to.deep.equal([`mkfs.xfs -L etcd-data ${deviceLink}`]);
        expect(r.events).to.include(`mount -o noatime ${deviceLink} /var/lib/etcd`);
        expect(r.events).to.include("download https://github.com/etcd-io/etcd/releases/download/v3.6.14/etcd-v3.6.14-linux-amd64.tar.gz");
        // Order: the volume is formatted and mounted, the etcd user exists before files owned by it arrive, then etcd starts.
        expect(indexOf(r, "aws ec2 attach-volume")).to.be.lessThan(indexOf(r, "mkfs.xfs"));
        expect(indexOf(r, "mkfs.xfs")).to.be.lessThan(indexOf(r, "mount "));
        expect(indexOf(r, "useradd --system")).to.be.lessThan(indexOf(r, "fetch"));
        expect(indexOf(r, "fetch")).to.be.lessThan(indexOf(r, "systemctl start --no-block etcd.service"));
        expect(r.events).to.include("chown etcd:etcd /var/lib/etcd");
        expect(fs.statSync(path.join(r.sandbox, "varlib/etcd")).mode & 0o777).to.equal(0o700);
        for (const binary of ["etcd", "etcdctl", "etcdutl"]) expect(fs.statSync(path.join(r.sandbox, "bin", binary)).mode & 0o777).to.equal(0o755);
        const state = path.join(r.sandbox, "etc/etcd/cluster-state.env");
        expect(fs.readFileSync(state, "utf8")).to.equal("ETCD_INITIAL_CLUSTER_STATE=new\n");
        expect(fs.statSync(state).mode & 0o777).to.equal(0o600);
        expect(fs.readFileSync(path.join(r.sandbox, "etc/systemd/networkd.conf.d/kaws-etcd.conf"), "utf8")).to.contain("ManageForeignRoutes=no");
        expect(r.events).to.include("systemctl enable etcd.service kaws-etcd-snapshot.timer");
        expect(r.events).to.include(`xfs_growfs /var/lib/etcd`);
        // No peer answered: this is the first start of the cluster.
        expect(r.events.filter((e) => e.startsWith("etcdctl"))).to.deep.equal([
            `etcdctl --endpoints=https://${members[1].ip}:2379,https://${members[2].ip}:2379,https://${sameSubnetPeer}:2379 --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/peer.crt --key=/etc/etcd/pki/peer.key --dial-timeout=3s --command-timeout=10s member list`,
        ]);
    });

    it("on a blank volume with the cluster running and listing this member (a replaced volume): joins as existing", () => {
        const listing = members.map((m, i) => `${i}abc, ${i === 0 ? "unstarted" : "started"}, ${i === 0 ? "" : m.name}, https://${m.ip}:2380, https://${m.ip}:2379, false`).join("\n");
        const r = run({ blkid: 2, busyPolls: 0, dataPresent: false, etcdInstalled: true, sha256: releaseSha256, runningCluster: listing });
        expect(r.status, `${r.stderr}\n${r.events.join("\n")}`).to.equal(0);
        expect(fs.readFileSync(path.join(r.sandbox, "etc/etcd/cluster-state.env"), "utf8")).to.equal("ETCD_INITIAL_CLUSTER_STATE=existing\n");
    });

    it("on a blank volume with a running cluster that does not list this member: refuses and says how to add it", () => {
        const listing = members.slice(1).map((m, i) => `${i}abc, started, ${m.name}, https://${m.ip}:2380, https://${m.ip}:2379, false`).join("\n");
        const r = run({ blkid: 2, busyPolls: 0, dataPresent: false, etcdInstalled: true, sha256: releaseSha256, runningCluster: listing });
        expect(r.status).to.not.equal(0);
        expect(r.stderr).to.contain(`etcdctl member add etcd-0 --peer-urls=https://${members[0].ip}:2380`);
        expect(r.events.filter((e) => e.startsWith("systemctl"))).to.deep.equal([]);
    });

    it("on a volume with data: never formats, keeps the installed etcd, starts it as existing", () => {
        const r = run({ blkid: 0, busyPolls: 0, dataPresent: true, etcdInstalled: true, sha256: releaseSha256 });
        expect(r.status, `${r.stderr}\n${r.events.join("\n")}`).to.equal(0);
        expect(r.events.filter((e) => e.startsWith("mkfs") || e.startsWith("download") || e.startsWith("useradd"))).to.deep.equal([]);
        expect(fs.readFileSync(path.join(r.sandbox, "etc/etcd/cluster-state.env"), "utf8")).to.equal("ETCD_INITIAL_CLUSTER_STATE=existing\n");
        expect(r.events).to.include("systemctl start --no-block etcd.service kaws-etcd-snapshot.timer");
    });

    it("refuses a download whose checksum does not match, and starts nothing", () => {
        const r = run({ blkid: 0, busyPolls: 0, dataPresent: true, etcdInstalled: false, sha256: "0".repeat(64) });
        expect(r.status).to.not.equal(0);
        expect(r.stderr).to.match(/checksum mismatch/);
        expect(fs.existsSync(path.join(r.sandbox, "bin/etcd"))).to.equal(false);
        expect(r.events.filter((e) => e.startsWith("systemctl"))).to.deep.equal([]);
    });

    it("refuses to format a device it cannot classify", () => {
        const r = run({ blkid: 4, busyPolls: 0, dataPresent: false, etcdInstalled: true, sha256: releaseSha256 });
        expect(r.status).to.not.equal(0);
        expect(r.stderr).to.match(/refusing to format/);
        expect(r.events.filter((e) => e.startsWith("mkfs") || e.startsWith("mount") || e.startsWith("systemctl"))).to.deep.equal([]);
    });
});
