// kakoi live calls: signalling over the app's WebSocket (/ws/calls/), media peer to peer through the
// TURN relay only (iceTransportPolicy "relay", turns: URLs only: TURN over TLS 1.3). A static file
// (the CSP allows no inline script); every string it shows comes from the page (json_script).
(() => {
  "use strict";
  const root = document.getElementById("call");
  if (!root) return;
  const T = JSON.parse(document.getElementById("call-strings").textContent);
  const roomId = root.dataset.room;
  const statusEl = document.getElementById("call-status");
  const joinBtn = document.getElementById("call-join");
  const muteBtn = document.getElementById("call-mute");
  const cameraBtn = document.getElementById("call-camera");
  const leaveBtn = document.getElementById("call-leave");
  const tiles = document.getElementById("call-tiles");
  const SPEAKING_LEVEL = 0.02;
  // Close codes after which reconnecting cannot help (session ended, a message the server refused).
  const FINAL_CLOSES = new Set([4401, 4400, 4413, 4429]);
  const RECONNECT_MAX_MS = 5000;
  const ICE_RESTART_MS = 3000; // retry an ICE restart this often while a peer is not connected
  const PEER_GONE_MS = 20000; // a peer that stays unreachable this long (its server died) is dropped

  let ws = null;
  let rtcConfig = null;
  let localStream = null;
  let localTile = null;
  let selfId = null;
  let joined = false;
  let audioOn = true;
  let videoOn = true;
  let analyser = null;
  let meterTimer = null;
  let rejoin = false; // the socket dropped while in the call: join again once it is back
  let reconnectDelay = 500;
  let leaving = false;
  const peers = new Map(); // participant id -> {pc, tile, audio, name, chain, offerer}

  const status = (text) => { statusEl.textContent = text; };
  const send = (message) => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message)); };

  // Only TURN over TLS, whatever the server sent: no STUN, no turn: over UDP or plain TCP.
  function relayOnly(servers) {
    return servers
      .map((server) => ({ ...server, urls: [].concat(server.urls).filter((url) => url.startsWith("turns:")) }))
      .filter((server) => server.urls.length > 0);
  }

  function makeTile(name, isLocal) {
    const tile = document.createElement("figure");
    tile.className = "tile";
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true; // sound plays from a separate <audio> element (remote) or not at all (local)
    const label = document.createElement("figcaption");
    label.className = "label";
    const nameEl = document.createElement("span");
    nameEl.textContent = isLocal ? T.you : name;
    const flags = document.createElement("span");
    flags.className = "flags";
    label.append(nameEl, flags);
    tile.append(video, label);
    tiles.append(tile);
    return { tile, video, flags };
  }

  function showFlags(view, audio, video, speaking) {
    const parts = [];
    if (!audio) parts.push(T.muted);
    if (!video) parts.push(T.cameraIsOff);
    if (speaking && audio) parts.push(T.speaking);
    view.flags.textContent = parts.length ? `(${parts.join(", ")})` : "";
    view.tile.classList.toggle("speaking", Boolean(speaking && audio));
    view.tile.classList.toggle("camera-off", !video);
  }

  // Signalling reconnects by itself (a web task replaced in a deploy, a load balancer cutting the socket):
  // media keep flowing through the relay meanwhile, and the page joins the room again once it is back.
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + root.dataset.socket);
    ws = socket;
    socket.addEventListener("open", () => { reconnectDelay = 500; });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      handle(message);
    });
    socket.addEventListener("close", (event) => {
      if (ws !== socket) return;
      ws = null;
      if (leaving || FINAL_CLOSES.has(event.code)) {
        status(T[`closed_${event.code}`] || T.closed);
        teardown();
        joinBtn.disabled = true;
        return;
      }
      if (joined) rejoin = true;
      joined = false;
      status(T.reconnecting);
      joinBtn.disabled = true;
      setTimeout(connect, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
    });
  }

  function handle(message) {
    switch (message.type) {
      case "turn":
        rtcConfig = { iceServers: relayOnly(message.iceServers || []), iceTransportPolicy: "relay" };
        for (const peer of peers.values()) peer.pc.setConfiguration(rtcConfig);
        if (rejoin && localStream) {
          rejoin = false;
          send({ type: "join", room: roomId });
        } else if (!joined) { joinBtn.disabled = false; status(T.ready); }
        break;
      case "joined":
        selfId = message.self.id;
        joined = true;
        // After a reconnect this socket is a new participant: connect afresh to everyone in the room.
        for (const id of [...peers.keys()]) removePeer(id);
        status(message.peers.length ? T.inCall : T.alone);
        for (const peer of message.peers) addPeer(peer, true);
        send({ type: "media", audio: audioOn, video: videoOn });
        break;
      case "peer-joined":
        if (joined) { addPeer(message.peer, false); status(T.inCall); }
        break;
      case "peer-left":
        removePeer(message.peer);
        if (joined && peers.size === 0) status(T.alone);
        break;
      case "peer-media": {
        const peer = peers.get(message.peer);
        if (peer) { peer.audioOn = message.audio; peer.videoOn = message.video; showFlags(peer.view, peer.audioOn, peer.videoOn, false); }
        break;
      }
      case "signal":
        onSignal(message.from, message.data);
        break;
      case "error":
        status(T[`error_${message.code}`] || T.closed);
        if (message.code === "room_full" || message.code === "no_room") stopLocal();
        break;
      default:
        break; // heartbeat, left
    }
  }

  function addPeer(info, offerer) {
    if (peers.has(info.id)) return peers.get(info.id);
    const pc = new RTCPeerConnection(rtcConfig);
    const view = makeTile(info.name, false);
    const audio = document.createElement("audio");
    audio.autoplay = true;
    view.tile.append(audio);
    const peer = {
      pc, view, audio, name: info.name, chain: Promise.resolve(), audioOn: info.audio, videoOn: info.video,
      offerer, id: info.id, repairTimer: null, downSince: 0,
    };
    peers.set(info.id, peer);
    showFlags(view, info.audio, info.video, false);
    for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate) send({ type: "signal", to: info.id, data: { kind: "candidate", candidate: event.candidate.toJSON() } });
    });
    pc.addEventListener("track", (event) => {
      const stream = event.streams[0] || new MediaStream([event.track]);
      if (event.track.kind === "video") view.video.srcObject = stream;
      else audio.srcObject = stream;
    });
    pc.addEventListener("connectionstatechange", () => watchConnection(peer));
    if (offerer) {
      peer.chain = peer.chain.then(async () => {
        await pc.setLocalDescription(await pc.createOffer());
        send({ type: "signal", to: info.id, data: { kind: "offer", sdp: pc.localDescription.sdp } });
      });
    }
    return peer;
  }

  // The relay dropped (a relay task replaced, a network change): the offering side restarts ICE, which
  // allocates afresh on the relay, and retries until the media flow again. A peer that stays unreachable
  // (its web server died without telling the room) is dropped after PEER_GONE_MS.
  function watchConnection(peer) {
    const state = peer.pc.connectionState;
    if (state === "connected") {
      peer.downSince = 0;
      if (peer.repairTimer) { clearInterval(peer.repairTimer); peer.repairTimer = null; }
      if (joined) status(T.inCall);
      return;
    }
    if ((state === "disconnected" || state === "failed") && !peer.repairTimer) {
      peer.downSince = Date.now();
      status(T.mediaReconnecting);
      const repair = () => {
        if (!peers.has(peer.id) || peer.pc.connectionState === "connected") return;
        if (Date.now() - peer.downSince > PEER_GONE_MS) { removePeer(peer.id); if (peers.size === 0 && joined) status(T.alone); return; }
        if (peer.offerer && ws && ws.readyState === WebSocket.OPEN) restartIce(peer);
      };
      peer.repairTimer = setInterval(repair, ICE_RESTART_MS);
      setTimeout(repair, state === "failed" ? 0 : 1000);
    }
  }

  function restartIce(peer) {
    peer.chain = peer.chain.then(async () => {
      if (peer.pc.signalingState !== "stable") return;
      if (rtcConfig) peer.pc.setConfiguration(rtcConfig);
      await peer.pc.setLocalDescription(await peer.pc.createOffer({ iceRestart: true }));
      send({ type: "signal", to: peer.id, data: { kind: "offer", sdp: peer.pc.localDescription.sdp } });
    }).catch(() => {});
  }

  function onSignal(from, data) {
    const peer = peers.get(from);
    if (!peer) return; // not (or no longer) in this room
    const pc = peer.pc;
    // One step at a time per peer: a candidate waits for the description before it.
    peer.chain = peer.chain.then(async () => {
      if (data.kind === "offer") {
        await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        send({ type: "signal", to: from, data: { kind: "answer", sdp: pc.localDescription.sdp } });
      } else if (data.kind === "answer") {
        await pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
      } else if (data.kind === "candidate") {
        await pc.addIceCandidate(data.candidate);
      }
    }).catch(() => status(T.connectionFailed));
  }

  function removePeer(id) {
    const peer = peers.get(id);
    if (!peer) return;
    if (peer.repairTimer) clearInterval(peer.repairTimer);
    peer.pc.close();
    peer.view.tile.remove();
    peers.delete(id);
  }

  function stopLocal() {
    if (localStream) for (const track of localStream.getTracks()) track.stop();
    localStream = null;
    if (localTile) localTile.tile.remove();
    localTile = null;
    if (meterTimer) clearInterval(meterTimer);
    meterTimer = null;
    analyser = null;
    joined = false;
    joinBtn.hidden = false;
    joinBtn.disabled = !rtcConfig;
    muteBtn.hidden = cameraBtn.hidden = leaveBtn.hidden = true;
  }

  function teardown() {
    for (const id of [...peers.keys()]) removePeer(id);
    stopLocal();
  }

  async function meter() {
    if (analyser && localTile) {
      const samples = new Float32Array(analyser.fftSize);
      analyser.getFloatTimeDomainData(samples);
      const rms = Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
      showFlags(localTile, audioOn, videoOn, rms > SPEAKING_LEVEL);
    }
    for (const peer of peers.values()) {
      let level = 0;
      try {
        const stats = await peer.pc.getStats();
        stats.forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "audio" && s.audioLevel) level = s.audioLevel; });
      } catch { /* closed meanwhile */ }
      showFlags(peer.view, peer.audioOn, peer.videoOn, level > SPEAKING_LEVEL);
    }
  }

  joinBtn.addEventListener("click", async () => {
    joinBtn.disabled = true;
    status(T.joining);
    try {
      localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    } catch {
      status(T.noMedia);
      joinBtn.disabled = false;
      return;
    }
    localTile = makeTile("", true);
    localTile.video.srcObject = localStream;
    try {
      const context = new AudioContext();
      analyser = context.createAnalyser();
      analyser.fftSize = 512;
      context.createMediaStreamSource(localStream).connect(analyser);
    } catch { analyser = null; }
    meterTimer = setInterval(meter, 300);
    audioOn = videoOn = true;
    muteBtn.textContent = T.mute;
    cameraBtn.textContent = T.cameraOff;
    muteBtn.setAttribute("aria-pressed", "false");
    cameraBtn.setAttribute("aria-pressed", "false");
    joinBtn.hidden = true;
    muteBtn.hidden = cameraBtn.hidden = leaveBtn.hidden = false;
    send({ type: "join", room: roomId });
  });

  muteBtn.addEventListener("click", () => {
    audioOn = !audioOn;
    for (const track of localStream.getAudioTracks()) track.enabled = audioOn;
    muteBtn.textContent = audioOn ? T.mute : T.unmute;
    muteBtn.setAttribute("aria-pressed", String(!audioOn));
    send({ type: "media", audio: audioOn, video: videoOn });
  });

  cameraBtn.addEventListener("click", () => {
    videoOn = !videoOn;
    for (const track of localStream.getVideoTracks()) track.enabled = videoOn;
    cameraBtn.textContent = videoOn ? T.cameraOff : T.cameraOn;
    cameraBtn.setAttribute("aria-pressed", String(!videoOn));
    send({ type: "media", audio: audioOn, video: videoOn });
  });

  leaveBtn.addEventListener("click", () => {
    rejoin = false;
    send({ type: "leave" });
    for (const id of [...peers.keys()]) removePeer(id);
    stopLocal();
    status(T.left);
  });

  window.addEventListener("pagehide", () => { leaving = true; if (ws) ws.close(1000); });
  connect();
})();
