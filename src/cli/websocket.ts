/**
 * The smallest WebSocket client `awaitress ps` needs to talk to Node's inspector: RFC 6455 over
 * `http`'s upgrade, text frames only, client frames masked. Node 20 has no WebSocket client of its
 * own (Node 22 has a global `WebSocket`); a dependency for forty lines was not worth it.
 */
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import type { Duplex } from "node:stream";

/** An open connection: send text, receive text messages, close. */
export interface TextSocket {
  send(text: string): void;
  onMessage(listener: (text: string) => void): void;
  onClose(listener: (error?: Error) => void): void;
  close(): void;
}

/** Opens `url` (ws://host:port/path); rejects if the server does not switch protocols. */
export function connectWebSocket(url: string, timeoutMs = 5000): Promise<TextSocket> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
      },
      timeout: timeoutMs,
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.on("response", (res) => reject(new Error(`${url} answered HTTP ${res.statusCode}, not a WebSocket`)));
    req.on("upgrade", (_res, socket: Duplex, head: Buffer) => resolve(wrap(socket, head)));
    req.end();
  });
}

function wrap(socket: Duplex, head: Buffer): TextSocket {
  const messages: ((text: string) => void)[] = [];
  const closes: ((error?: Error) => void)[] = [];
  let buffer = head;
  let fragments: Buffer[] = [];
  const parse = (): void => {
    for (;;) {
      if (buffer.length < 2) return;
      const b0 = buffer[0] as number;
      const b1 = buffer[1] as number;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const maskAt = offset;
      if (masked) offset += 4;
      if (buffer.length < offset + length) return;
      let payload = buffer.subarray(offset, offset + length);
      if (masked) {
        const mask = buffer.subarray(maskAt, maskAt + 4);
        payload = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
      }
      buffer = buffer.subarray(offset + length);
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === 0x8) {
        socket.end();
        return;
      }
      if (opcode === 0x9) {
        write(socket, 0xa, payload);
        continue;
      }
      if (opcode === 0x1 || opcode === 0x0) {
        fragments.push(payload);
        if (fin) {
          const text = Buffer.concat(fragments).toString("utf8");
          fragments = [];
          for (const listener of messages) listener(text);
        }
      }
    }
  };
  socket.on("data", (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    parse();
  });
  socket.on("error", (error: Error) => {
    for (const listener of closes) listener(error);
  });
  socket.on("close", () => {
    for (const listener of closes) listener();
  });
  queueMicrotask(parse);
  return {
    send: (text) => write(socket, 0x1, Buffer.from(text, "utf8")),
    onMessage: (listener) => messages.push(listener),
    onClose: (listener) => closes.push(listener),
    close: () => {
      write(socket, 0x8, Buffer.alloc(0));
      socket.end();
    },
  };
}

/** Writes one final, masked frame (RFC 6455 §5.3: every client frame is masked). */
function write(socket: Duplex, opcode: number, payload: Buffer): void {
  const length = payload.length;
  const header: number[] = [0x80 | opcode];
  if (length < 126) header.push(0x80 | length);
  else if (length < 65536) header.push(0x80 | 126, length >> 8, length & 0xff);
  else {
    header.push(0x80 | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    header.push(...big);
  }
  const mask = randomBytes(4);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  socket.write(Buffer.concat([Buffer.from(header), mask, masked]));
}
