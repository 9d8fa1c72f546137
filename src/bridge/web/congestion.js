// congestion.js — proposal 324 congestion control as the browser client uses it with the exit
// (tor-spec "Congestion control"; prop 324 sections cited): the request in the exit's ntor-v3
// handshake (10.3: extension type 1, empty; only to an exit that lists FlowCtrl=2, 10.1, when the
// consensus's cc_alg is not 0) and the exit's answer (10.5: type 2, a sendme_inc within 1 of the
// consensus's cc_sendme_inc); the consensus parameters with tor 0.4.9's defaults and ranges; and
// the stream flow control that replaces stream SENDMEs (4.1 XON/XOFF): the receiving side sends
// XOFF once more than cc_xoff_client x 488 bytes have waited unread for 5 ms (tor 0.4.9's grace),
// and XON (rate 0: unlimited) once the page has read them all. The circuit's own SENDMEs (every
// sendme_inc DATA cells, v1 digests) and the sending window (cc_cwnd_init cells in flight: the
// window Vegas starts from, never grown, as the client sends little) are circuit.js's.
import { EXT_CC_REQUEST, EXT_CC_RESPONSE, encodeExtensions, parseExtensions } from './ntor3.js';
import { supportsProtocol } from './protover.js';

export const FLOW_VERSION = 0;
export const XOFF_UNIT = 488; // tor 0.4.9 counts cc_xoff_* in 488-byte cells
export const XOFF_GRACE_MS = 5;

// Defaults and ranges as tor 0.4.9 reads them (networkstatus_get_param).
const PARAMS = {
  cc_alg: [2, 0, 3],
  cc_sendme_inc: [31, 1, 254],
  cc_cwnd_init: [124, 31, 10000],
  cc_xoff_client: [500, 1, 10000],
};

function param(params, name) {
  const [def, lo, hi] = PARAMS[name];
  const v = params?.[name];
  return Number.isInteger(v) && v >= lo && v <= hi ? v : def;
}

// What the client asks of an exit under these consensus parameters ({name: int}); null when the
// consensus turns congestion control off (cc_alg 0: fixed windows, as tor's client).
export function ccParams(consensusParams = {}) {
  if (param(consensusParams, 'cc_alg') === 0) return null;
  return {
    sendmeInc: param(consensusParams, 'cc_sendme_inc'),
    cwndInit: param(consensusParams, 'cc_cwnd_init'),
    xoffBytes: param(consensusParams, 'cc_xoff_client') * XOFF_UNIT,
  };
}

// 10.1: an exit negotiates congestion control in ntor-v3 if it lists FlowCtrl=2.
export const offersCc = (protocols) => supportsProtocol(protocols, 'FlowCtrl', 2);

// 10.3: the client's ntor-v3 message asking for congestion control.
export const ccRequestMessage = () =>
  encodeExtensions([{ type: EXT_CC_REQUEST, body: new Uint8Array(0) }]);

// The relay's ntor-v3 message: the SENDME increment it chose (10.5), or 0 when it declined (no
// type-2 extension: fixed windows). Throws on a malformed list, an answer we did not ask for, or
// an increment of 0 or more than 1 away from ours (tor closes the circuit for each).
export function ccResponse(msg, asked) {
  const exts = parseExtensions(msg);
  const e = exts.find((x) => x.type === EXT_CC_RESPONSE);
  if (!e) return 0;
  if (!asked) throw new Error('ntor-v3: congestion-control reply we did not ask for');
  if (e.body.length < 1) throw new Error('ntor-v3: congestion-control reply without sendme_inc');
  const inc = e.body[0];
  if (inc === 0 || Math.abs(inc - asked.sendmeInc) > 1)
    throw new Error(`ntor-v3: congestion-control sendme_inc ${inc} out of range`);
  return inc;
}

// 4.1 bodies: XOFF is VERSION (1 byte); XON adds kbps_ewma (u32, 0 = unlimited).
export const encodeXoff = () => Uint8Array.of(FLOW_VERSION);
export function encodeXon(kbps = 0) {
  const b = new Uint8Array(5);
  new DataView(b.buffer).setUint32(1, kbps >>> 0);
  return b;
}
// Either body: its advisory rate (0 for XOFF or unlimited); throws on a short body or another
// version (a protocol violation: tor closes the circuit).
export function parseFlowBody(body, isXon) {
  if (body.length < (isXon ? 5 : 1) || body[0] !== FLOW_VERSION)
    throw new Error(`malformed ${isXon ? 'XON' : 'XOFF'}`);
  return isXon ? new DataView(body.buffer, body.byteOffset, body.length).getUint32(1) : 0;
}

// The receiving side of one stream: call buffered(n, now) after data was queued and drained(n)
// after the reader took some; each returns 'xoff', 'xon' or null (send it at once).
export class FlowReceiver {
  constructor(xoffBytes) {
    this.xoffBytes = xoffBytes;
    this.xoffSent = false;
    this.overSince = null; // when the buffer went over the limit
    this.xoffs = 0;
    this.xons = 0;
  }

  buffered(n, now) {
    if (this.xoffSent || n <= this.xoffBytes) {
      if (n <= this.xoffBytes) this.overSince = null;
      return null;
    }
    if (this.overSince === null) this.overSince = now;
    if (now - this.overSince < XOFF_GRACE_MS) return null;
    this.xoffSent = true;
    this.xoffs++;
    return 'xoff';
  }

  drained(n) {
    if (n > this.xoffBytes) return null;
    this.overSince = null;
    if (!this.xoffSent || n > 0) return null;
    this.xoffSent = false;
    this.xons++;
    return 'xon';
  }
}
