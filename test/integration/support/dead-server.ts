// A TCP server that accepts connections and never answers: not a fake of anything, just the shape of a hung
// server, to prove a client's deadline turns into a TransientError instead of a stuck function.
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export async function deadServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
