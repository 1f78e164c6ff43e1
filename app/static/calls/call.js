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

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + root.dataset.socket);
    ws.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      handle(message);
    });
    ws.addEventListener("close", (event) => {
      status(T[`closed_${event.code}`] || T.closed);
      teardown();
      joinBtn.disabled = true;
    });
  }

  function handle(message) {
    switch (message.type) {
      case "turn":
        rtcConfig = { iceServers: relayOnly(message.iceServers || []), iceTransportPolicy: "relay" };
        for (const peer of peers.values()) peer.pc.setConfiguration(rtcConfig);
        if (!joined) { joinBtn.disabled = false; status(T.ready); }
        break;
      case "joined":
        selfId = message.self.id;
        joined = true;
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
    const peer = { pc, view, audio, name: info.name, chain: Promise.resolve(), audioOn: info.audio, videoOn: info.video };
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
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed") status(T.connectionFailed);
    });
    if (offerer) {
      peer.chain = peer.chain.then(async () => {
        await pc.setLocalDescription(await pc.createOffer());
        send({ type: "signal", to: info.id, data: { kind: "offer", sdp: pc.localDescription.sdp } });
      });
    }
    return peer;
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
    send({ type: "leave" });
    for (const id of [...peers.keys()]) removePeer(id);
    stopLocal();
    status(T.left);
  });

  window.addEventListener("pagehide", () => { if (ws) ws.close(1000); });
  connect();
})();
