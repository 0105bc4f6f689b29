/**
 * policy-release.ts — records the pack's content for its version in policy/release.json. Published pack
 * versions are immutable in Pulumi Cloud, so a rule change needs a new version: this refuses to record new
 * content under the version already recorded. Run after bumping policy/package.json's version:
 *   npm run policy:release
 */
import * as fs from "fs";
import * as path from "path";
import { policyPackDigest, policyPackRelease, policyReleaseFile, repoRoot } from "../automation/deployments/settings";

const file = policyReleaseFile(repoRoot);
const { versionTag } = policyPackRelease(repoRoot);
const contentSha256 = policyPackDigest(repoRoot);
const recorded = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined;
if (recorded?.version === versionTag && recorded.contentSha256 !== contentSha256) {
    console.error(`kaws: policy/ changed but policy/package.json still says version ${versionTag}, which is already recorded; bump the version, then run this again`);
    process.exit(1);
}
fs.writeFileSync(file, JSON.stringify({ version: versionTag, contentSha256 }, null, 2) + "\n");
console.log(`${path.relative(repoRoot, file)}: ${versionTag} ${contentSha256}`);
