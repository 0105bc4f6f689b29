import { expect } from "chai";
import * as YAML from "yaml";
import { renderCloudConfig, withFilesDigest } from "../../nodes/cloudInit";

describe("render/cloudInit", () => {
    const config = { files: [{ path: "/usr/local/sbin/boot", permissions: "0700", content: "#!/bin/bash\necho hi\n" }], runcmd: [["/usr/local/sbin/boot"]] };

    it("renders a #cloud-config document with root-owned files and run commands", () => {
        const text = renderCloudConfig(config);
        expect(text.split("\n")[0]).to.equal("#cloud-config");
        const doc = YAML.parse(text);
        expect(doc.write_files).to.deep.equal([{ path: "/usr/local/sbin/boot", permissions: "0700", owner: "root:root", content: "#!/bin/bash\necho hi\n" }]);
        expect(doc.runcmd).to.deep.equal([["/usr/local/sbin/boot"]]);
    });

    it("refuses anything that looks like key material", () => {
        for (const content of ["-----BEGIN EC PRIVATE KEY-----\nx\n", "kind: EncryptionConfiguration\n", "users:\n- user:\n    client-key-data: abc\n", "WEAVE_PASSWORD=hunter2"]) {
            expect(() => renderCloudConfig({ files: [{ path: "/etc/x", permissions: "0600", content }], runcmd: [] })).to.throw("refusing to put secret material");
        }
    });

    it("stamps the files digest as a comment that leaves the document unchanged", () => {
        const text = renderCloudConfig(config);
        const digest = "a".repeat(64);
        const stamped = withFilesDigest(text, digest);
        expect(stamped.split("\n").slice(0, 2)).to.deep.equal(["#cloud-config", `# kaws node files sha256:${digest}`]);
        expect(YAML.parse(stamped)).to.deep.equal(YAML.parse(text));
        expect(() => withFilesDigest(text, "not-a-digest")).to.throw("64 hex characters");
    });
});
