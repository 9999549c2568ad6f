// robot_memory viewer: the memory's map at any stop of any episode, what changed between two
// stops, the robot's route, the scene graph tree and (served live) an ask box.
// The data (see robot_memory/viewer/data.py) holds the exact state of memory.at(t) at every
// stop as deltas; this script only draws it. No network access except to its own server.
(function () {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';
  const KEYFRAME_EVERY = 16;
  const PRESENT = 0, X = 1, Y = 2, ROOM = 4, SUPPORT = 5, STATE = 6, SINCE = 7, LAST = 8;
  const LIVE = document.body.dataset.live === '1';
  const $ = (id) => document.getElementById(id);

  let D = null;          // the data
  let keyframes = [];    // full state arrays every KEYFRAME_EVERY stops
  let shown = [];        // the state each object's element shows now
  let elems = [];        // one <g> per object
  let stop = 0;
  let idIndex = new Map();
  let placesOfRoom = [];  // place indices per room index

  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function fmtTime(s) {
    const d = new Date(s * 1000);
    return d.toLocaleString('en-GB', { timeZone: D.timezone, weekday: 'short', day: '2-digit',
      month: 'short', hour: '2-digit', minute: '2-digit' });
  }

  // ------------------------------------------------------------------ states
  function buildKeyframes() {
    keyframes = [];
    let cur = new Array(D.objects.length).fill(null);
    D.deltas.forEach((delta, k) => {
      for (const [i, s] of delta) cur[i] = s;
      if (k % KEYFRAME_EVERY === 0) keyframes.push(cur.slice());
    });
  }

  function stateAt(k) {
    const base = Math.floor(k / KEYFRAME_EVERY);
    const cur = keyframes[base].slice();
    for (let j = base * KEYFRAME_EVERY + 1; j <= k; j++) {
      for (const [i, s] of D.deltas[j]) cur[i] = s;
    }
    return cur;
  }

  // ------------------------------------------------------------------ drawing
  function bounds() {
    const xs = [], ys = [];
    for (const r of D.rooms) for (const [x, y] of r.polygon) { xs.push(x); ys.push(y); }
    for (const p of D.places) { xs.push(p.xy[0]); ys.push(p.xy[1]); }
    for (const delta of D.deltas) for (const [, s] of delta) {
      if (s && Number.isFinite(s[X])) { xs.push(s[X]); ys.push(s[Y]); }
    }
    if (!xs.length) return [0, 0, 1, 1];
    const x0 = Math.min(...xs) - 0.5, x1 = Math.max(...xs) + 0.5;
    const y0 = Math.min(...ys) - 0.5, y1 = Math.max(...ys) + 0.5;
    return [x0, -y1, x1 - x0, y1 - y0];  // map y points up; SVG y points down
  }

  const ROOM_FILLS = ['#f4e7d3', '#dfeedd', '#dde7f4', '#f3dde9', '#eeeed8', '#e4ddf2', '#d8efee'];

  function drawStatic() {
    const box = bounds().join(' ');
    $('map').setAttribute('viewBox', box);
    $('map-bg').setAttribute('viewBox', box);
    for (const g of ['rooms', 'edges', 'places', 'objects', 'labels']) clear($(g));
    D.rooms.forEach((r, i) => {
      if (r.polygon.length < 3) return;
      el('polygon', { class: 'room', fill: ROOM_FILLS[i % ROOM_FILLS.length],
        points: r.polygon.map(([x, y]) => x + ',' + (-y)).join(' ') }, $('rooms'));
      const cx = r.polygon.reduce((a, p) => a + p[0], 0) / r.polygon.length;
      const cy = r.polygon.reduce((a, p) => a + p[1], 0) / r.polygon.length;
      // On the top layer, after the objects: a room's name is never hidden under its marks.
      el('text', { class: 'room-name', x: cx, y: -cy }, $('labels')).textContent = r.name;
    });
    for (const [a, b] of D.edges) {
      const p = D.places[a].xy, q = D.places[b].xy;
      el('line', { class: 'edge', x1: p[0], y1: -p[1], x2: q[0], y2: -q[1] }, $('edges'));
    }
    D.places.forEach((p, i) => {
      el('circle', { class: 'place', r: 0.06, cx: p.xy[0], cy: -p.xy[1], 'data-place': i },
        $('places'));
    });
    elems = D.objects.map((o, i) => {
      const furniture = o.mobility !== 'movable';
      const g = el('g', { class: 'obj gone' + (furniture ? ' furniture' : ''),
        'data-id': o.id, 'data-index': i }, $('objects'));
      const fill = o.color || '#444';
      if (furniture) {
        el('rect', { class: 'mark', x: -0.15, y: -0.15, width: 0.3, height: 0.3, fill }, g);
      } else {
        el('circle', { class: 'mark', r: 0.1, fill }, g);
      }
      return g;
    });
    shown = new Array(D.objects.length).fill(null);
  }

  function showObjects(states) {
    for (let i = 0; i < states.length; i++) {
      const s = states[i];
      if (s === shown[i]) continue;
      const g = elems[i];
      if (!s || !Number.isFinite(s[X])) {
        g.classList.add('gone');
      } else {
        g.classList.remove('gone');
        g.classList.toggle('present', s[PRESENT] === 1);
        g.classList.toggle('missing', s[PRESENT] !== 1);
        g.setAttribute('transform', 'translate(' + s[X] + ',' + (-s[Y]) + ')');
      }
      if (!s || s[PRESENT] !== 1) g.classList.remove('present');
      shown[i] = s;
    }
  }

  function drawPath() {
    clear($('path'));
    if (!$('show-path').checked || !D.stops.length) return;
    const route = D.paths[D.stops[stop].episode] || [];
    if (route.length < 2) return;
    el('polyline', { class: 'path',
      points: route.map((i) => D.places[i].xy[0] + ',' + (-D.places[i].xy[1])).join(' ') },
      $('path'));
  }

  // ------------------------------------------------------------------ changes
  function sameXY(a, b) { return a[X] === b[X] && a[Y] === b[Y] && a[3] === b[3]; }

  function sameSupport(a, b) {
    return JSON.stringify(a[SUPPORT]) === JSON.stringify(b[SUPPORT]);
  }

  // The same rules as EpisodicMemory.diff: over present objects; moved when the position or
  // room differs, or a known support changed; state changed when the state differs.
  function diff(ka, kb) {
    const a = stateAt(ka), b = stateAt(kb), out = [];
    for (let i = 0; i < a.length; i++) {
      const pa = a[i] && a[i][PRESENT] === 1, pb = b[i] && b[i][PRESENT] === 1;
      if (pb && !pa) out.push(['added', i, null, b[i]]);
      else if (pa && !pb) out.push(['removed', i, a[i], null]);
      else if (pa && pb) {
        if (!sameXY(a[i], b[i]) || a[i][ROOM] !== b[i][ROOM] ||
            (!sameSupport(a[i], b[i]) && a[i][SUPPORT] !== null)) {
          out.push(['moved', i, a[i], b[i]]);
        }
        if (a[i][STATE] !== b[i][STATE]) out.push(['state_changed', i, a[i], b[i]]);
      }
    }
    return out;
  }

  const KIND_NAMES = { moved: 'moved', removed: 'removed', state_changed: 'state changed',
    added: 'appeared' };

  function roomName(k) { return k >= 0 ? D.rooms[k].name : '?'; }

  function drawChanges() {
    clear($('changes'));
    clear($('changes-list'));
    if (!D.stops.length) return;
    const order = { moved: 0, removed: 1, state_changed: 2, added: 3 };
    const changes = diff(+$('diff-from').value, +$('diff-to').value)
      .sort((p, q) => order[p[0]] - order[q[0]] || p[1] - q[1]);
    const onMap = $('show-changes').checked;
    const counts = {};
    for (const [kind] of changes) counts[kind] = (counts[kind] || 0) + 1;
    $('changes-summary').textContent = Object.keys(order)
      .map((k) => (counts[k] || 0) + ' ' + KIND_NAMES[k]).join(', ');
    for (const [kind, i, a, b] of changes) {
      const o = D.objects[i];
      const li = document.createElement('li');
      li.className = 'kind-' + kind;
      li.dataset.kind = kind;
      li.dataset.id = o.id;
      let detail = '';
      if (kind === 'moved' && a[ROOM] === b[ROOM]) detail = 'within the ' + roomName(b[ROOM]);
      else if (kind === 'moved') detail = roomName(a[ROOM]) + ' → ' + roomName(b[ROOM]);
      else if (kind === 'state_changed') detail = (a[STATE] || '?') + ' → ' + (b[STATE] || '?');
      else detail = roomName((a || b)[ROOM]);
      li.textContent = KIND_NAMES[kind] + ': ' + o.label + ' (' + o.id + ') ' + detail;
      $('changes-list').appendChild(li);
      if (!onMap) continue;
      const cls = 'change-' + kind;
      if (kind === 'moved' && Number.isFinite(a[X])) {
        el('line', { class: cls, x1: a[X], y1: -a[Y], x2: b[X], y2: -b[Y],
          'marker-end': 'url(#arrow)' }, $('changes'));
      } else if (kind === 'removed' && Number.isFinite(a[X])) {
        const d = 0.15;
        el('path', { class: cls, d: 'M' + (a[X] - d) + ',' + (-a[Y] - d) + 'l' + 2 * d + ',' +
          2 * d + 'm0,' + (-2 * d) + 'l' + (-2 * d) + ',' + 2 * d }, $('changes'));
      } else if (b && Number.isFinite(b[X])) {
        el('circle', { class: cls, cx: b[X], cy: -b[Y], r: 0.2 }, $('changes'));
      }
    }
    if (!changes.length) {
      const li = document.createElement('li');
      li.textContent = 'nothing changed';
      $('changes-list').appendChild(li);
    }
  }

  // ------------------------------------------------------------------ scene graph tree
  // Rooms are listed with their counts at every stop; a room's places and objects are built
  // only while the room is open (the tree is the costliest part of a slider step otherwise).
  let treeGroups = null;

  function groupByPlace(states) {
    const byPlace = new Map(), unplaced = new Map();
    states.forEach((s, i) => {
      if (!s || s[PRESENT] !== 1) return;
      const room = s[ROOM];
      let best = -1, bestD = Infinity;
      for (const j of placesOfRoom[room] || []) {
        const p = D.places[j];
        const d = (p.xy[0] - s[X]) ** 2 + (p.xy[1] - s[Y]) ** 2;
        if (d < bestD) { bestD = d; best = j; }
      }
      const into = best >= 0 ? byPlace : unplaced;
      const key = best >= 0 ? best : room;
      if (!into.has(key)) into.set(key, []);
      into.get(key).push(i);
    });
    return { byPlace, unplaced, states };
  }

  function details(key, text, parent, open) {
    const d = document.createElement('details');
    d.dataset.key = key;
    d.open = open;
    const s = document.createElement('summary');
    s.textContent = text;
    d.appendChild(s);
    parent.appendChild(d);
    return d;
  }

  function objectList(ids, parent) {
    const ul = document.createElement('ul');
    for (const i of ids) {
      const li = document.createElement('li');
      const o = D.objects[i], s = treeGroups.states[i];
      li.textContent = o.label + (o.color ? ' (' + o.color + ')' : '') +
        (s[STATE] ? ' — ' + s[STATE] : '');
      li.dataset.id = o.id;
      ul.appendChild(li);
    }
    parent.appendChild(ul);
  }

  function fillRoom(rd, k, openKeys) {
    if (rd.dataset.filled === '1') return;
    rd.dataset.filled = '1';
    for (const j of placesOfRoom[k] || []) {
      const ids = treeGroups.byPlace.get(j) || [];
      const key = 'place:' + j;
      objectList(ids, details(key, 'place: ' + D.places[j].id + ' (' + ids.length + ')', rd,
        openKeys.has(key)));
    }
    if (treeGroups.unplaced.get(k)) objectList(treeGroups.unplaced.get(k), rd);
  }

  function drawTree(states) {
    const tree = $('tree');
    const openKeys = new Set([...tree.querySelectorAll('details[open]')]
      .map((d) => d.dataset.key));
    treeGroups = groupByPlace(states);
    clear(tree);
    const top = details('building', 'building: ' + D.building, tree, true);
    D.rooms.forEach((r, k) => {
      const places = placesOfRoom[k] || [];
      const count = places.reduce((a, j) => a + (treeGroups.byPlace.get(j) || []).length, 0) +
        (treeGroups.unplaced.get(k) || []).length;
      if (!places.length && !count) return;
      const key = 'room:' + k;
      const rd = details(key, 'room: ' + r.name + ' (' + count + ' objects)', top,
        openKeys.has(key));
      if (rd.open) fillRoom(rd, k, openKeys);
      rd.addEventListener('toggle', () => { if (rd.open) fillRoom(rd, k, new Set()); });
    });
    if (treeGroups.unplaced.get(-1)) {
      objectList(treeGroups.unplaced.get(-1), details('room:none', 'no room', top, false));
    }
  }

  // ------------------------------------------------------------------ time
  function setStop(k) {
    const t0 = performance.now();
    if (!D.stops.length) return 0;
    stop = Math.max(0, Math.min(D.stops.length - 1, k | 0));
    const s = D.stops[stop];
    $('time').value = String(stop);
    const label = $('time-label');
    label.textContent = s.label + ' · episode ' + (s.episode + 1) + '/' + D.episodes.length +
      ' (' + D.episodes[s.episode].label + ')';
    label.title = s.date;
    label.dataset.t = String(s.t);
    label.dataset.stop = String(stop);
    const states = stateAt(stop);
    showObjects(states);
    drawPath();
    drawTree(states);
    document.body.dataset.stop = String(stop);
    return performance.now() - t0;
  }

  function episodeEnd(e) {
    let last = 0;
    D.stops.forEach((s, k) => { if (s.episode === e) last = k; });
    return last;
  }

  function fillSelects() {
    for (const id of ['diff-from', 'diff-to']) {
      const sel = $(id);
      clear(sel);
      D.episodes.forEach((e, i) => {
        const o = document.createElement('option');
        o.value = String(episodeEnd(i));
        o.textContent = 'end of ' + e.label;
        sel.appendChild(o);
      });
    }
    if (D.episodes.length) {
      $('diff-from').value = String(episodeEnd(0));
      $('diff-to').value = String(episodeEnd(D.episodes.length - 1));
    }
  }

  // ------------------------------------------------------------------ hover
  function onHover(ev) {
    const g = ev.target.closest ? ev.target.closest('.obj') : null;
    const tip = $('tip');
    if (!g) { tip.style.display = 'none'; return; }
    const i = +g.dataset.index, o = D.objects[i], s = shown[i];
    if (!s) { tip.style.display = 'none'; return; }
    const t = D.stops[stop].t;
    const last = D.t0_s + s[LAST];
    const p = s[PRESENT] === 1 ? Math.exp(-Math.max(t - last, 0) / o.tau_s) : 0;
    const support = s[SUPPORT] ? s[SUPPORT][0] + ' ' +
      ((D.objects[idIndex.get(s[SUPPORT][1])] || {}).label || s[SUPPORT][1]) : '—';
    tip.textContent = o.label + '  ' + o.id + '\n' +
      'colour: ' + (o.color || '—') + '   state: ' + (s[STATE] || '—') + '\n' +
      'room: ' + roomName(s[ROOM]) + '   support: ' + support + '\n' +
      (s[PRESENT] === 1 ? 'here since ' + fmtTime(D.t0_s + s[SINCE]) + '\n'
        : 'missing: not where it was last seen\n') +
      'last seen ' + fmtTime(last) + '\n' + 'P(still there) ' + p.toFixed(2);
    const box = $('map-panel').getBoundingClientRect();
    tip.style.left = (ev.clientX - box.left + 12) + 'px';
    tip.style.top = (ev.clientY - box.top + 12) + 'px';
    tip.style.display = 'block';
  }

  // ------------------------------------------------------------------ asking (served live)
  function showAnswer(reply) {
    clear($('plan'));
    clear($('seen'));
    for (const g of document.querySelectorAll('.obj.evidence')) g.classList.remove('evidence');
    const box = $('answer');
    clear(box);
    const text = document.createElement('div');
    text.id = 'answer-text';
    text.textContent = reply.answer || reply.error || '(no answer)';
    box.appendChild(text);
    if (reply.ok === false && !reply.answer) return;
    const conf = document.createElement('div');
    conf.className = 'confidence';
    conf.textContent = 'confidence ' + Number(reply.confidence || 0).toFixed(2) +
      (reply.needs_verification ? ' — worth checking' : '');
    box.appendChild(conf);
    const ul = document.createElement('ul');
    ul.id = 'evidence';
    for (const e of reply.evidence || []) {
      const li = document.createElement('li');
      li.dataset.id = e.object_id;
      li.textContent = e.object_id + ' seen ' + fmtTime(e.stamp_s) + ' in ' +
        (e.room_name || e.room_id || '?') + ', ' + (e.obs_ids || []).length +
        ' observations' + (e.note ? ' (' + e.note + ')' : '');
      ul.appendChild(li);
      const i = idIndex.get(e.object_id);
      if (i !== undefined) elems[i].classList.add('evidence');
      if (e.position_m && Number.isFinite(e.position_m[0])) {
        el('circle', { class: 'seen-at', cx: e.position_m[0], cy: -e.position_m[1], r: 0.3,
          'data-id': e.object_id }, $('seen'));
      }
    }
    box.appendChild(ul);
    const plan = reply.plan || [];
    if (plan.length) {
      const p = document.createElement('div');
      p.id = 'plan-text';
      p.textContent = 'To check, the planner would look from: ' +
        plan.map((s) => s.place_id).join(' → ');
      box.appendChild(p);
      const pts = plan.map((s) => s.xy[0] + ',' + (-s.xy[1]));
      if (reply.robot_xy) pts.unshift(reply.robot_xy[0] + ',' + (-reply.robot_xy[1]));
      el('polyline', { class: 'plan', points: pts.join(' ') }, $('plan'));
      for (const s of plan) {
        el('circle', { class: 'plan-stop', cx: s.xy[0], cy: -s.xy[1], r: 0.12,
          'data-place': s.place_id }, $('plan'));
      }
    }
  }

  function ask(ev) {
    ev.preventDefault();
    const q = $('question').value.trim();
    if (!q) return;
    $('answer').textContent = 'thinking…';
    const at = D.stops.length && stop < D.stops.length - 1 ? D.stops[stop].t : null;
    const body = JSON.stringify({ question: q, at_s: at });
    // A busy server refuses with 503 and Retry-After: ask again a few times before showing it.
    const send = (tries) => fetch('api/ask', { method: 'POST',
      headers: { 'Content-Type': 'application/json' }, body })
      .then((r) => {
        if (r.status !== 503 || tries <= 0) return r.json();
        const waitS = Math.min(Number(r.headers.get('Retry-After')) || 1, 10);
        $('answer').textContent = 'the server is busy; asking again…';
        return new Promise((done) => setTimeout(done, waitS * 1000))
          .then(() => send(tries - 1));
      });
    send(3)
      .then(showAnswer)
      .catch((e) => { $('answer').textContent = 'the server did not answer: ' + e; });
  }

  let version = null;
  function poll() {
    fetch('api/version').then((r) => r.json()).then((v) => {
      if (version !== null && v.seq !== version) {
        return fetch('api/view').then((r) => r.json()).then((data) => {
          const atEnd = stop >= D.stops.length - 1;
          init(data, atEnd ? Infinity : stop);
        }).then(() => { version = v.seq; });
      }
      version = v.seq;
    }).catch(() => {}).finally(() => setTimeout(poll, 5000));
  }

  // ------------------------------------------------------------------ start
  function init(data, at) {
    D = data;
    idIndex = new Map(D.objects.map((o, i) => [o.id, i]));
    placesOfRoom = D.rooms.map(() => []);
    D.places.forEach((p, j) => { if (p.room >= 0) placesOfRoom[p.room].push(j); });
    buildKeyframes();
    drawStatic();
    $('time').max = String(Math.max(D.stops.length - 1, 0));
    $('summary').textContent = D.num_objects + ' objects, ' + D.episodes.length +
      ' episodes, ' + D.stops.length + ' stops';
    fillSelects();
    setStop(Math.min(at, D.stops.length - 1));
    drawChanges();
  }

  function start() {
    const defs = el('defs', {}, null);
    const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5,
      markerWidth: 5, markerHeight: 5, orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#ff7f0e' }, marker);
    $('map-bg').insertBefore(defs, $('map-bg').firstChild);
    init(JSON.parse($('memory-data').textContent), Infinity);
    $('time').addEventListener('input', () => setStop(+$('time').value));
    $('prev-episode').addEventListener('click', () => {
      const e = D.stops[stop].episode;
      setStop(D.stops.findIndex((s) => s.episode === Math.max(e - 1, 0)));
    });
    $('next-episode').addEventListener('click', () => {
      const e = Math.min(D.stops[stop].episode + 1, D.episodes.length - 1);
      setStop(D.stops.findIndex((s) => s.episode === e));
    });
    $('show-path').addEventListener('change', drawPath);
    for (const id of ['diff-from', 'diff-to', 'show-changes']) {
      $(id).addEventListener('change', drawChanges);
    }
    $('map').addEventListener('mousemove', onHover);
    $('map').addEventListener('mouseleave', () => { $('tip').style.display = 'none'; });
    if (LIVE) {
      $('ask-panel').hidden = false;
      $('ask-form').addEventListener('submit', ask);
      poll();
    }
    window.robotMemoryViewer = {
      setStop, diff: (a, b) => diff(a, b).map(([k, i]) => [k, D.objects[i].id]),
      get stop() { return stop; }, get data() { return D; },
      readyMs: performance.now(),
    };
    document.body.dataset.ready = '1';
  }

  start();
}());
