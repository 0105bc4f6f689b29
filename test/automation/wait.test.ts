import { expect } from "chai";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { AddressInfo } from "net";
import { ApiNotReadyError, CancelledError, waitForApiReady } from "../../automation/wait";
import { Pki, makePki } from "../tlsFixture";
import { toolAvailable } from "../tools";

describe("waitForApiReady", function () {
    this.timeout(10000);
    let pki: Pki;
    let server: https.Server;
    let endpoint: string;
    let answers: number[];
    let requireClientCert = false;

    before(function () {
        if (!toolAvailable("openssl", this)) return;
        pki = makePki(fs.mkdtempSync(path.join(os.tmpdir(), "kaws-wait-")));
    });

    beforeEach(async function () {
        if (!pki) this.skip();
        answers = [];
        server = https.createServer({ key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
            const authenticated = (req.socket as any).authorized === true;
            if (req.url !== "/readyz") { res.writeHead(404); res.end(); return; }
            if (requireClientCert && !authenticated) { res.writeHead(401); res.end("Unauthorized"); return; }
            const status = answers.shift() ?? 200;
            res.writeHead(status);
            res.end(status === 200 ? "ok" : "[-]etcd failed: reason withheld\nreadyz check failed");
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterEach(() => new Promise<void>((resolve) => server ? server.close(() => resolve()) : resolve()));

    it("keeps polling through failures, reports progress, and returns once /readyz answers 200", async () => {
        answers = [500, 503];
        const progress: string[] = [];
        const result = await waitForApiReady({ endpoint, caPem: pki.ca, timeoutMs: 5000, intervalMs: 20, onProgress: (n, _ms, why) => progress.push(`${n}:${why}`) });
        expect(result.attempts).to.equal(3);
        expect(progress).to.deep.equal(["1:HTTP 500 readyz check failed", "2:HTTP 503 readyz check failed"]);
    });

    it("refuses a server whose certificate is not from our CA, and gives up when the time is spent", async () => {
        const started = Date.now();
        let error: unknown;
        try {
            await waitForApiReady({ endpoint, caPem: pki.otherCa, timeoutMs: 300, intervalMs: 50 });
        } catch (err) { error = err; }
        expect(error).to.be.instanceOf(ApiNotReadyError);
        expect((error as Error).message).to.match(/did not answer \/readyz within .* (SELF_SIGNED|UNABLE_TO_VERIFY|certificate)/i);
        expect(Date.now() - started).to.be.lessThan(3000);
    });

    it("authenticates with the admin client certificate when anonymous /readyz is refused", async () => {
        requireClientCert = true;
        try {
            let error: unknown;
            try { await waitForApiReady({ endpoint, caPem: pki.ca, timeoutMs: 200, intervalMs: 50 }); } catch (err) { error = err; }
            expect((error as Error).message).to.contain("HTTP 401");
            const result = await waitForApiReady({ endpoint, caPem: pki.ca, clientCertPem: pki.clientCert, clientKeyPem: pki.clientKey, timeoutMs: 2000, intervalMs: 50 });
            expect(result.attempts).to.equal(1);
        } finally {
            requireClientCert = false;
        }
    });

    it("stops at once when cancelled", async () => {
        answers = Array(1000).fill(503);
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 100);
        const started = Date.now();
        let error: unknown;
        try { await waitForApiReady({ endpoint, caPem: pki.ca, timeoutMs: 60_000, intervalMs: 5_000, signal: controller.signal }); } catch (err) { error = err; }
        expect(error).to.be.instanceOf(CancelledError);
        expect(Date.now() - started).to.be.lessThan(1500);
    });

    it("rejects an endpoint that is not https", async () => {
        let error: unknown;
        try { await waitForApiReady({ endpoint: "http://127.0.0.1:1", caPem: pki.ca, timeoutMs: 100, intervalMs: 10 }); } catch (err) { error = err; }
        expect((error as Error).message).to.match(/must be an https URL/);
    });
});
