/** A file a node receives: stored KMS-encrypted in the assets bucket under its role's prefix, installed at boot. */
export interface NodeFileSpec {
    /** Absolute path on the node. */
    readonly path: string;
    /** Octal mode, e.g. "0600". */
    readonly mode: string;
    /** "user:group"; root:root when absent. */
    readonly owner?: string;
}

/** Where a role's files live in the assets bucket. */
export function rolePrefix(role: string): string {
    return `nodes/${role}`;
}

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
    return `#!/bin/bash
# Installs this node's files (${role}) from s3://${bucket}/${rolePrefix(role)}/ with the modes and owners in ${manifestName}.
set -euo pipefail
umask 077
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if aws s3 cp --recursive --only-show-errors --region "${region}" "s3://${bucket}/${rolePrefix(role)}/" "$staging/"; then
    break
  fi
  if [ "$attempt" -eq 10 ]; then
    echo "could not fetch s3://${bucket}/${rolePrefix(role)}/" >&2
    exit 1
  fi
  sleep $((attempt * 3))
done
while read -r mode owner path; do
  install -D -m "$mode" -o "\${owner%%:*}" -g "\${owner##*:}" "$staging$path" "$path"
done < "$staging/${manifestName}"
`;
}
