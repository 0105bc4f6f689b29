import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { toolAvailable } from "./tools";

/** Credentials that look real and must never be printed. */
export const fakeKeys = { AWS_ACCESS_KEY_ID: "AKIAKAWSFAKEKEY00001", AWS_SECRET_ACCESS_KEY: "kawsFakeSecretDoNotPrint0001", AWS_SESSION_TOKEN: "kawsFakeSessionDoNotPrint0001" };

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        }).on("error", reject);
    });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const open = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, "127.0.0.1", () => { socket.end(); resolve(true); }).on("error", () => resolve(false));
        });
        if (open) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`moto_server did not listen on ${port} within ${timeoutMs} ms`);
}

/**
 * An HTTP server on loopback in front of moto: `answer` may reply itself (what moto cannot answer or
 * a test needs to go wrong) or return false to have the request forwarded to moto unchanged.
 */
export abstract class MotoStub {
    url = "";
    private server?: http.Server;

    constructor(private readonly moto: string) {}

    abstract reset(): void;
    protected abstract answer(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): boolean;

    async start(): Promise<void> {
        this.reset();
        this.server = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (c) => chunks.push(c));
            req.on("end", () => {
                const body = Buffer.concat(chunks);
                if (!this.answer(req, body, res)) this.forward(req, body, res);
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    }

    stop(): void {
        this.server?.close();
    }

    private forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
        const forward = http.request(`${this.moto}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            answer.pipe(res);
        });
        forward.on("error", () => { res.writeHead(502); res.end(); });
        forward.end(body);
    }
}

export function xml(res: http.ServerResponse, status: number, body: string): true {
    res.writeHead(status, { "content-type": "text/xml" });
    res.end(body);
    return true;
}

export function json(res: http.ServerResponse, status: number, body: unknown): true {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
    res.end(JSON.stringify(body));
    return true;
}

/** One moto_server on loopback for a test file, with a work folder and an AWS environment of fake keys only. */
export interface Moto {
    readonly url: string;
    /** A temporary folder, removed by stop(). */
    readonly work: string;
    /** Forgets everything created (moto's /moto-api/reset). */
    reset(): Promise<void>;
    /** Stops moto and puts process.env back. */
    stop(): void;
}

/**
 * Starts moto_server (skipping the test file when it is missing, failing under CI) and points the AWS
 * SDK at nothing of this machine: fake keys, no shared config or credentials file, no instance metadata.
 */
export async function startMoto(context: Mocha.Context, env: Record<string, string> = {}): Promise<Moto> {
    if (!toolAvailable("moto_server", context, ["--help"])) throw new Error("unreachable: the test was skipped");
    const saved = { ...process.env };
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-moto-test-"));
    const port = await freePort();
    const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    const url = `http://127.0.0.1:${port}`;
    await waitForPort(port, 15000);
    Object.assign(process.env, fakeKeys, {
        AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: path.join(work, "no-config"), AWS_SHARED_CREDENTIALS_FILE: path.join(work, "no-credentials"), ...env,
    });
    for (const name of ["AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"]) if (!(name in env)) delete process.env[name];
    return {
        url,
        work,
        reset: async () => { await fetch(`${url}/moto-api/reset`, { method: "POST" }); },
        stop: () => {
            child.kill("SIGTERM");
            process.env = saved;
            fs.rmSync(work, { recursive: true, force: true });
        },
    };
}
