import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface Pki { ca: string; otherCa: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string }

/** A CA, a server certificate for 127.0.0.1 and a client certificate signed by it, and an unrelated CA. */
export function makePki(dir: string): Pki {
    const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    const key = (name: string) => run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`);
    for (const name of ["ca", "other", "server", "client"]) key(name);
    run("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=kaws-test-ca", "-days", "1", "-out", "ca.crt");
    run("req", "-x509", "-new", "-key", "other.key", "-subj", "/CN=other-ca", "-days", "1", "-out", "other.crt");
    fs.writeFileSync(path.join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    fs.writeFileSync(path.join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
    for (const [name, cn] of [["server", "kube-apiserver"], ["client", "kubernetes-admin"]]) {
        run("req", "-new", "-key", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`);
        run("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", `${name}.ext`, "-out", `${name}.crt`);
    }
    const read = (file: string) => fs.readFileSync(path.join(dir, file), "utf8");
    return { ca: read("ca.crt"), otherCa: read("other.crt"), serverCert: read("server.crt"), serverKey: read("server.key"), clientCert: read("client.crt"), clientKey: read("client.key") };
}
