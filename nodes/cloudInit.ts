import * as YAML from "yaml";

export interface CloudConfigFile {
    readonly path: string;
    readonly content: string;
    /** Octal permissions, e.g. "0755". */
    readonly permissions: string;
}

export interface CloudConfig {
    /** Files written before runcmd; never secrets (user data is readable with ec2:DescribeInstanceAttribute). */
    readonly files: readonly CloudConfigFile[];
    /** Commands run once, in order, at first boot. */
    readonly runcmd: readonly (string | readonly string[])[];
}

const secretMarkers = [/PRIVATE KEY/, /\bkind:\s*EncryptionConfiguration\b/, /client-key-data/, /WEAVE_PASSWORD=\S/];

/**
 * Marks user data with the digest of the node files it boots with. The comment changes the launch template
 * whenever a file changes, which is what makes an instance refresh roll the nodes.
 */
export function withFilesDigest(userData: string, digest: string): string {
    if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error(`node files digest must be 64 hex characters: ${digest}`);
    const [first, ...rest] = userData.split("\n");
    return [first, `# kaws node files sha256:${digest}`, ...rest].join("\n");
}

/** Renders EC2 user data as a #cloud-config document. Refuses content that looks like key material. */
export function renderCloudConfig(config: CloudConfig): string {
    for (const file of config.files) {
        const marker = secretMarkers.find((m) => m.test(file.content));
        if (marker) throw new Error(`refusing to put secret material (${marker}) into user data: ${file.path}`);
    }
    const document = {
        write_files: config.files.map((f) => ({ path: f.path, permissions: f.permissions, owner: "root:root", content: f.content })),
        runcmd: config.runcmd,
    };
    return "#cloud-config\n" + YAML.stringify(document, { lineWidth: 0 });
}
