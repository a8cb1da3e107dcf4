// Loaded with `node --import` before the Portkey gateway: a server that is given a port and no host
// (what the gateway's start-server does) listens on 127.0.0.1 instead of every interface.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && (args[1] === undefined || typeof args[1] === "function")) {
    args.splice(1, args[1] === undefined ? 1 : 0, "127.0.0.1");
  }
  return listen.apply(this, args);
};
