"""What the call tests and the call benchmark need to drive the call page in Chromium (no Django here):
the browser binary and flags, and the page instrumentation and getStats() summary they evaluate."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("KAKOI_CHROMIUM", "/usr/bin/chromium")
# Debian's chromium: the real binary (the /usr/bin/chromium wrapper's shared-memory check can fail in containers).
CHROMIUM_BINARY = os.environ.get("KAKOI_CHROMIUM") or (
    "/usr/lib/chromium/chromium" if os.access("/usr/lib/chromium/chromium", os.X_OK) else CHROMIUM
)
CALL_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
]

# Test-only instrumentation: remember every RTCPeerConnection and WebSocket close code of the page.
INSTRUMENT = """
(() => {
  const Original = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  };
  const OriginalSocket = window.WebSocket;
  window.__closes = [];
  window.__messages = [];
  window.WebSocket = class extends OriginalSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("close", (e) => window.__closes.push(e.code));
      this.addEventListener("message", (e) => window.__messages.push(JSON.parse(e.data).type));
    }
  };
})();
"""

STATS = """
async () => {
  const out = [];
  for (const pc of window.__pcs) {
    const stats = await pc.getStats();
    const byId = new Map();
    stats.forEach((s) => byId.set(s.id, s));
    let pair = null;
    stats.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId); });
    const local = pair ? byId.get(pair.localCandidateId) : null;
    const remote = pair ? byId.get(pair.remoteCandidateId) : null;
    const result = {
      state: pc.connectionState,
      policy: pc.getConfiguration().iceTransportPolicy,
      urls: pc.getConfiguration().iceServers.flatMap((s) => [].concat(s.urls)),
      localType: local && local.candidateType, relayProtocol: local && local.relayProtocol,
      remoteType: remote && remote.candidateType,
      inAudio: 0, inVideo: 0, outAudio: 0, outVideo: 0, audioLevel: 0, framesDecoded: 0,
      candidateTypes: [],
    };
    stats.forEach((s) => {
      if (s.type === "local-candidate") result.candidateTypes.push(s.candidateType + "/" + (s.relayProtocol || s.protocol));
      if (s.type === "inbound-rtp" && s.kind === "audio") { result.inAudio = s.bytesReceived; result.audioLevel = s.audioLevel || 0; }
      if (s.type === "inbound-rtp" && s.kind === "video") { result.inVideo = s.bytesReceived; result.framesDecoded = s.framesDecoded || 0; }
      if (s.type === "outbound-rtp" && s.kind === "audio") result.outAudio += s.bytesSent;
      if (s.type === "outbound-rtp" && s.kind === "video") result.outVideo += s.bytesSent;
    });
    out.push(result);
  }
  return out;
}
"""
