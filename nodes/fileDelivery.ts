import { bucketPrefixes } from "../plan/cluster";
import { renderShellScript } from "./shellScript";

/** A file a node receives: stored KMS-encrypted in the assets bucket under its role's prefix, installed at boot. */
export interface NodeFileSpec {
    /** Absolute path on the node. */
    readonly path: string;
    /** Octal mode, e.g. "0600". */
    readonly mode: string;
    /** "user:group"; root:root when absent. */
    readonly owner?: string;
}

/** Where a role's files live in the assets bucket: nodes/<role> (the plan's bucket layout). */
export const rolePrefix = bucketPrefixes.nodes;

export const manifestName = "manifest.tsv";

/** One line per file, "<mode> <owner> <path>", read by the fetch script to install each file. */
export function renderManifest(files: readonly NodeFileSpec[]): string {
    for (const file of files) {
        if (!/^\/[^\s]+$/.test(file.path)) throw new Error(`node file path must be absolute with no spaces: ${file.path}`);
        if (!/^0[0-7]{3}$/.test(file.mode)) throw new Error(`node file mode must be octal like 0600: ${file.mode} (${file.path})`);
    }
    return files.map((f) => `${f.mode} ${f.owner ?? "root:root"} ${f.path}\n`).join("");
}

/**
 * Bash that downloads the role's files from the assets bucket (the instance profile can read only its
 * own prefix; objects are SSE-KMS) and installs each with its mode and owner. Holds no secret itself.
 */
export function renderFetchFilesScript(bucket: string, role: string, region: string): string {
    return renderShellScript("nodes/fetch-files.sh", {
        KAWS_BUCKET: bucket,
        KAWS_PREFIX: rolePrefix(role),
        KAWS_REGION: region,
        KAWS_MANIFEST: manifestName,
    }, `Installs this node's files (${role}) from s3://${bucket}/${rolePrefix(role)}/ with the modes and owners in ${manifestName}.`);
}
