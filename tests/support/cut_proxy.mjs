// A TCP proxy for client tests on 127.0.0.1: forwards each connection to `target` and can
// (1) add request headers to requests whose request line matches `addHeaders.when`, and
// (2) cut the client's connection after `cutAfter` body bytes of the first response that is a
// 200 text/event-stream, the way a broken network path would (both sockets destroyed, no
// final chunk). Every request gets `connection: close`, so each connection carries exactly one
// exchange and the heads seen here are all of them. stop() closes every socket it opened.
import net from 'node:net';

export async function startCutProxy(targetPort, { cutAfter = Infinity, addHeaders } = {}) {
  const state = { cuts: 0, requestLines: [], sockets: new Set() };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    state.sockets.add(client);
    state.sockets.add(upstream);
    let reqHead = Buffer.alloc(0);
    let reqHeadDone = false;
    let resHead = Buffer.alloc(0);
    let cutting = false;
    let body = 0;
    const destroyBoth = () => { client.destroy(); upstream.destroy(); };
    client.on('data', (d) => {
      if (reqHeadDone) { upstream.write(d); return; }
      reqHead = Buffer.concat([reqHead, d]);
      const end = reqHead.indexOf('\r\n\r\n');
      if (end < 0) return;
      reqHeadDone = true;
      let head = reqHead.subarray(0, end).toString('latin1');
      const rest = reqHead.subarray(end);
      const line = head.split('\r\n')[0];
      state.requestLines.push(line);
      head = head.split('\r\n').filter((l) => !/^connection:/i.test(l)).join('\r\n') + '\r\nconnection: close';
      if (addHeaders && addHeaders.when.test(line)) {
        head += Object.entries(addHeaders.headers).map(([k, v]) => `\r\n${k}: ${v}`).join('');
      }
      upstream.write(Buffer.concat([Buffer.from(head, 'latin1'), rest]));
    });
    upstream.on('data', (d) => {
      if (cutting) {
        const room = cutAfter - body;
        if (d.length >= room) {
          client.write(d.subarray(0, room), destroyBoth);
          state.cuts += 1;
          cutting = false;
          return;
        }
        body += d.length;
        client.write(d);
        return;
      }
      if (resHead !== null) {
        resHead = Buffer.concat([resHead, d]);
        const end = resHead.indexOf('\r\n\r\n');
        if (end >= 0) {
          const head = resHead.subarray(0, end).toString('latin1');
          const isStream = / 200 /.test(head.split('\r\n')[0]) && /content-type: text\/event-stream/i.test(head);
          const afterHead = resHead.subarray(end + 4);
          resHead = null;
          client.write(Buffer.from(head + '\r\n\r\n', 'latin1'));
          if (isStream && state.cuts === 0 && Number.isFinite(cutAfter)) {
            cutting = true;
            upstream.emit('data', afterHead);
          } else if (afterHead.length) {
            client.write(afterHead);
          }
        }
        return;
      }
      client.write(d);
    });
    client.on('error', destroyBoth);
    upstream.on('error', destroyBoth);
    client.on('close', () => { upstream.destroy(); state.sockets.delete(client); });
    upstream.on('close', () => { client.end(); state.sockets.delete(upstream); });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    state,
    async stop() {
      for (const s of state.sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
