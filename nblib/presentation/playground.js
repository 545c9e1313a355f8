// Sân chơi huấn luyện trực tiếp (nblib.presentation.playground.Playground): phần vẽ trong trình duyệt.
// Kernel huấn luyện và gửi các khung hình nhỏ (lưới thô đầu ra, kích hoạt nơ-ron, trọng số, chi phí);
// tệp này dựng các điều khiển và vẽ mọi thứ lên canvas. Không tải gì từ mạng.

const FEATURE_LABELS = {
  x1: "x₁", x2: "x₂", "x1^2": "x₁²", "x2^2": "x₂²", x1x2: "x₁x₂", sin_x1: "sin x₁", sin_x2: "sin x₂",
};
const FEATURE_FN = {
  x1: (a, b) => a, x2: (a, b) => b, "x1^2": (a, b) => a * a, "x2^2": (a, b) => b * b,
  x1x2: (a, b) => a * b, sin_x1: (a, b) => Math.sin(a), sin_x2: (a, b) => Math.sin(b),
};
const DATASETS = [
  ["circles", "Hai vòng tròn"], ["xor", "XOR"], ["gauss", "Hai cụm Gauss"],
  ["spiral", "Xoắn ốc"], ["moons", "Hai vầng trăng"],
];
const ACTIVATIONS = [["relu", "ReLU"], ["tanh", "tanh"], ["sigmoid", "sigmoid"], ["linear", "tuyến tính"]];
const OPTIMIZERS = [["sgd", "SGD"], ["momentum", "Động lượng"], ["adam", "Adam"]];
const INITS = [["xavier", "Xavier"], ["he", "He"], ["scale", "randn × hệ số"]];
const LAMBDAS = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const BATCHES = [1, 2, 5, 10, 20, 50, 100, 500];
const POINTS = [100, 200, 500, 1000];
const RESET_KEYS = new Set([
  "dataset", "noise", "n_points", "train_frac", "features", "hidden", "activation", "init",
  "init_scale", "batchnorm", "seed",
]);

// Số theo kiểu Việt Nam: dấu phẩy thập phân.
function fmt(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) {
    return x.toExponential(1).replace(".", ",").replace("e", "e");
  }
  return String(Number(x.toPrecision(digits))).replace(".", ",");
}

// Bảng màu: cam (âm / lớp 0) → trắng → xanh (dương / lớp 1), như TensorFlow Playground.
const LUT = (() => {
  const neg = [245, 147, 34], mid = [232, 234, 235], pos = [8, 119, 189];
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const [a, b, u] = t < 0.5 ? [neg, mid, t * 2] : [mid, pos, (t - 0.5) * 2];
    for (let c = 0; c < 3; c++) lut[i * 4 + c] = Math.round(a[c] + (b[c] - a[c]) * u);
    lut[i * 4 + 3] = 255;
  }
  return lut;
})();

function el(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return e;
}

const LUT32 = new Uint32Array(LUT.buffer);

// Làm tròn như numpy (np.round: nửa về số chẵn), để bản đồ nhiệt trùng từng giá trị với Python.
function roundHalfEven(v) {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const MAX_F64 = Number.MAX_VALUE;

// Như _to_u8 của Python: (a − lo)/(hi − lo) → 0…255, NaN → lo, ±∞ → hi/lo.
function toU8(a, lo, hi) {
  if (Number.isNaN(a)) a = 0;
  else if (a === Infinity) a = hi;
  else if (a === -Infinity) a = lo;
  const v = roundHalfEven(((a - lo) / Math.max(hi - lo, 1e-12)) * 255);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

// Hàm kích hoạt trên cả một đoạn mảng (tại chỗ), công thức như nblib.activations.
function activateRange(name, Z, k0, k1) {
  if (name === "relu") {
    for (let k = k0; k < k1; k++) if (Z[k] < 0) Z[k] = 0; // NaN giữ NaN như np.maximum
  } else if (name === "tanh") {
    for (let k = k0; k < k1; k++) Z[k] = Math.tanh(Z[k]);
  } else if (name === "sigmoid") {
    for (let k = k0; k < k1; k++) Z[k] = sigmoid(Z[k]);
  }
}

function sigmoid(z) {
  const e = Math.exp(-Math.abs(z)); // ổn định: không tràn số
  return z >= 0 ? 1 / (1 + e) : e / (1 + e);
}

// Z = W·A + b cho m điểm (mỗi hàng của A, Z là một nơ-ron, m giá trị liền nhau); W, b đọc từ params.
function dense(params, w0, nOut, nIn, A, Z, m) {
  const b0 = w0 + nOut * nIn;
  for (let i = 0; i < nOut; i++) {
    const zi = i * m;
    Z.fill(0, zi, zi + m);
    for (let j = 0; j < nIn; j++) {
      const w = params[w0 + i * nIn + j], aj = j * m;
      for (let k = 0; k < m; k++) Z[zi + k] += w * A[aj + k];
    }
    const b = params[b0 + i];
    for (let k = 0; k < m; k++) Z[zi + k] += b;
  }
}

// Vị trí của W[l] (rồi b[l]) trong vector tham số, l = 1…L.
function weightOffsets(dims) {
  const offs = [];
  let off = 0;
  for (let l = 1; l < dims.length; l++) { offs.push(off); off += dims[l] * dims[l - 1] + dims[l]; }
  return offs;
}

// Bản đồ nhiệt kernel đã tính sẵn (grid_images của Python) đi kèm khung hình.
function kernelMaps(f) {
  return { out: f.out, hidden: f.hidden, weightOffsets: weightOffsets(f.dims) };
}

// Bản đồ nhiệt của mạng tính ngay trong trình duyệt từ các tham số (params_vector của Python):
// lượt truyền thuận ở chế độ kiểm tra của MLP.scores (dense → batch norm với trung bình trượt →
// kích hoạt; không dropout) trên tâm các ô của lưới n×n phủ [−R, R]² (như plane_grid, hàng 0 ở trên).
// Trả về { out: xác suất đầu ra (uint8, n²), hidden: kích hoạt từng nơ-ron ẩn (uint8, chuẩn hoá theo
// max |a| của nơ-ron trên mặt phẳng, 128 là 0), weightOffsets: vị trí W[l] trong params }, đúng như
// grid_images của Python. ws: vùng nhớ dùng lại giữa các khung hình.
export function netMaps(spec, params, ws = {}) {
  const n = spec.grid, R = spec.radius, dims = spec.dims, L = dims.length - 1, m = n * n;
  const act = spec.activation, bn = !!spec.batchnorm, eps = spec.bn_eps ?? 1e-5;
  const maxDim = Math.max(...dims);
  const H = dims.slice(1, L).reduce((a, b) => a + b, 0);
  if (!ws.a || ws.a.length < maxDim * m) { ws.a = new Float64Array(maxDim * m); ws.z = new Float64Array(maxDim * m); }
  if (!ws.out || ws.out.length !== m) ws.out = new Uint8Array(m);
  if (!ws.hidden || ws.hidden.length !== H * m) ws.hidden = new Uint8Array(H * m);
  if (!ws.c || ws.c.length !== n || ws.R !== R) {
    ws.c = new Float64Array(n);
    for (let k = 0; k < n; k++) ws.c[k] = ((k + 0.5) / n) * 2 * R - R;
    ws.R = R;
  }
  let A = ws.a, Z = ws.z;
  const c = ws.c;
  spec.features.forEach((name, fi) => {
    const fn = FEATURE_FN[name];
    for (let i = 0; i < n; i++) {
      const x2 = c[n - 1 - i];
      for (let j = 0; j < n; j++) A[fi * m + i * n + j] = fn(c[j], x2);
    }
  });
  // vị trí của W[l], b[l] (rồi γ, β, trung bình, phương sai của batch norm) trong params
  const offs = weightOffsets(dims);
  let bnOff = offs[L - 1] + dims[L] * dims[L - 1] + dims[L], hOff = 0;
  for (let l = 1; l <= L; l++) {
    const nOut = dims[l], nIn = dims[l - 1];
    dense(params, offs[l - 1], nOut, nIn, A, Z, m);
    if (l === L) break;
    if (bn) {
      for (let i = 0; i < nOut; i++) {
        const g = params[bnOff + i], be = params[bnOff + nOut + i];
        const mu = params[bnOff + 2 * nOut + i], sd = Math.sqrt(params[bnOff + 3 * nOut + i] + eps);
        for (let k = i * m; k < (i + 1) * m; k++) Z[k] = g * ((Z[k] - mu) / sd) + be;
      }
      bnOff += 4 * nOut;
    }
    activateRange(act, Z, 0, nOut * m);
    for (let i = 0; i < nOut; i++) {
      let s = 0, finite = true;
      for (let k = i * m; k < (i + 1) * m; k++) {
        const a = Math.abs(Z[k]);
        if (a > s) s = a;
        else if (!(a <= s)) finite = false; // NaN
      }
      if (s === Infinity) { s = MAX_F64; finite = false; }
      s = Math.max(s, 1e-12);
      const dst = ws.hidden, base = (hOff + i) * m, zi = i * m;
      if (finite) {
        // (a/s + 1)/2 · 255 = (a/s + 1) · 127,5 (cùng một lần làm tròn), rồi làm tròn như np.round
        for (let k = 0; k < m; k++) {
          const v = (Z[zi + k] / s + 1) * 127.5;
          let r = Math.round(v);
          if (r - v === 0.5 && (r & 1)) r -= 1;
          dst[base + k] = r;
        }
      } else {
        for (let k = 0; k < m; k++) dst[base + k] = toU8(Z[zi + k] / s, -1, 1);
      }
    }
    hOff += nOut;
    [A, Z] = [Z, A];
  }
  for (let k = 0; k < m; k++) ws.out[k] = toU8(sigmoid(Z[k]), 0, 1);
  return { out: ws.out, hidden: ws.hidden, weightOffsets: offs };
}

function render({ model, el: root }) {
  const view = {
    frames: 0, received: 0, latencies: [], recvLatencies: [], lastStep: 0, pending: null, frame: null, queue: [],
    scheduled: false, points: null, labels: null, nTrain: 0, radius: 3,
    hist: { step: [], train: [], test: [] }, lastHistStep: -1,
  };
  // data-lm-suppress-shortcuts: phím mũi tên trên thanh trượt không bị JupyterLab hiểu là phím tắt.
  const box = el("div", { class: "nblib-pg", "data-lm-suppress-shortcuts": "true" });
  box.addEventListener("keydown", (e) => e.stopPropagation());
  root.appendChild(box);
  root.__pg = view; // cho kiểm thử và đo đạc: số khung đã vẽ, độ trễ…

  // ----- hàng nút bấm -----
  const title = el("div", { class: "pg-title" });
  const btnReset = el("button", { class: "pg-reset", title: "Khởi tạo lại mạng", text: "⟲ Đặt lại" });
  const btnPlay = el("button", { class: "pg-play", text: "▶ Chạy" });
  const btnStep = el("button", { class: "pg-step", title: "Huấn luyện một bước", text: "▶| Một bước" });
  const counter = el("span", { class: "pg-counter", text: "Epoch 0 · bước 0" });
  const message = el("div", { class: "pg-message" });
  box.append(title, el("div", { class: "pg-bar" }, [btnReset, btnPlay, btnStep, counter]), message);

  // ----- điều khiển -----
  const controls = el("div", { class: "pg-controls" });
  box.appendChild(controls);
  const setters = {}; // tên → hàm cập nhật điều khiển khi giá trị ở kernel đổi

  function commit(name, value) {
    const rev = (model.get("rev") || 0) + 1;
    view.pending = { rev, t: performance.now(), name };
    model.set(name, value);
    model.set("rev", rev);
    model.save_changes();
  }

  function row(label, input, readout, cls = "") {
    const r = el("label", { class: `pg-row ${cls}` }, [el("span", { class: "pg-label", text: label }), input]);
    if (readout) r.appendChild(readout);
    controls.appendChild(r);
    return r;
  }

  function select(name, label, options, parse = (v) => v) {
    const s = el("select", { class: `pg-${name}` });
    for (const [v, text] of options) s.appendChild(el("option", { value: String(v), text }));
    s.addEventListener("change", () => commit(name, parse(s.value)));
    setters[name] = () => { s.value = String(model.get(name)); };
    return row(label, s);
  }

  function range(name, label, min, max, step, { log = false, show = fmt, live = true } = {}) {
    const r = el("input", { type: "range", class: `pg-${name}`, min, max, step });
    const out = el("span", { class: `pg-value pg-${name}-value` });
    const value = () => {
      const x = Number(r.value);
      return log ? Number(Math.pow(10, x).toPrecision(3)) : x;
    };
    r.addEventListener("input", () => {
      out.textContent = show(value());
      if (live && !RESET_KEYS.has(name)) commit(name, value());
    });
    // «change» theo sau «input»: chỉ gửi khi giá trị chưa được gửi (một lần đổi = một tin nhắn)
    r.addEventListener("change", () => { if (value() !== model.get(name)) commit(name, value()); });
    setters[name] = () => {
      const v = model.get(name);
      r.value = String(log ? Math.log10(v) : v);
      out.textContent = show(v);
    };
    return row(label, r, out);
  }

  function number(name, label, { min = 0, step = "any", int = false } = {}) {
    const n = el("input", { type: "number", class: `pg-${name}`, min, step });
    n.addEventListener("change", () => {
      const v = int ? parseInt(n.value || "0", 10) : parseFloat(String(n.value).replace(",", "."));
      if (Number.isFinite(v) && v >= min) commit(name, v);
    });
    setters[name] = () => { n.value = String(model.get(name)); };
    return row(label, n);
  }

  select("dataset", "Dữ liệu", DATASETS);
  range("noise", "Nhiễu", 0, 0.5, 0.05);
  select("n_points", "Số điểm", POINTS.map((v) => [v, String(v)]), Number);
  range("train_frac", "Tỉ lệ huấn luyện", 0.1, 0.9, 0.1, { show: (v) => `${Math.round(v * 100)}%` });

  const feats = el("span", { class: "pg-features" });
  const featBoxes = {};
  for (const [f, text] of Object.entries(FEATURE_LABELS)) {
    const c = el("input", { type: "checkbox", value: f });
    featBoxes[f] = c;
    c.addEventListener("change", () => {
      const chosen = Object.keys(featBoxes).filter((k) => featBoxes[k].checked);
      if (chosen.length) commit("features", chosen);
      else c.checked = true;
    });
    feats.appendChild(el("label", { class: "pg-check" }, [c, text]));
  }
  setters.features = () => {
    const on = new Set(model.get("features"));
    for (const [f, c] of Object.entries(featBoxes)) c.checked = on.has(f);
  };
  row("Đặc trưng", feats, null, "pg-wide");

  const layersBox = el("span", { class: "pg-hidden" });
  setters.hidden = () => {
    layersBox.textContent = "";
    const hidden = model.get("hidden").slice();
    const minus = el("button", { class: "pg-layers-minus", text: "−", title: "Bớt một tầng ẩn" });
    const plus = el("button", { class: "pg-layers-plus", text: "+", title: "Thêm một tầng ẩn" });
    minus.disabled = hidden.length === 0;
    plus.disabled = hidden.length >= 6;
    minus.addEventListener("click", (e) => { e.preventDefault(); commit("hidden", hidden.slice(0, -1)); });
    plus.addEventListener("click", (e) => { e.preventDefault(); commit("hidden", [...hidden, 4]); });
    layersBox.append(minus, el("span", { text: ` ${hidden.length} tầng ` }), plus);
    hidden.forEach((h, i) => {
      const n = el("input", { type: "number", min: 1, max: 8, step: 1, class: "pg-neurons" });
      n.value = String(h);
      n.title = `Số nơ-ron của tầng ẩn ${i + 1}`;
      n.addEventListener("change", () => {
        const v = Math.min(8, Math.max(1, parseInt(n.value || "1", 10)));
        const next = hidden.slice();
        next[i] = v;
        commit("hidden", next);
      });
      layersBox.appendChild(n);
    });
  };
  row("Tầng ẩn (≤ 6 × 8)", layersBox, null, "pg-wide");

  select("activation", "Hàm kích hoạt", ACTIVATIONS);
  select("optimizer", "Thuật toán tối ưu", OPTIMIZERS);
  range("lr", "Tốc độ học α", -5, 1, 0.05, { log: true });
  const rowMomentum = range("momentum", "γ (động lượng)", 0, 0.99, 0.01);
  const rowB1 = range("beta1", "β₁ (Adam)", 0.5, 0.99, 0.01);
  const rowB2 = range("beta2", "β₂ (Adam)", 0.9, 0.9999, 0.0001, { show: (v) => fmt(v, 4) });
  select("batch_size", "Kích thước batch", BATCHES.map((v) => [v, String(v)]), Number);
  select("init", "Khởi tạo", INITS);
  const rowScale = number("init_scale", "Hệ số khởi tạo");
  range("keep_prob", "keep_prob (dropout)", 0.1, 1, 0.05);
  select("lambd", "λ (điều chuẩn L2)", LAMBDAS.map((v) => [v, fmt(v)]), Number);
  const bn = el("input", { type: "checkbox", class: "pg-batchnorm" });
  bn.addEventListener("change", () => commit("batchnorm", bn.checked));
  setters.batchnorm = () => { bn.checked = !!model.get("batchnorm"); };
  row("Chuẩn hoá theo batch", bn);
  number("seed", "Seed", { int: true, step: 1 });
  number("stop_loss", "Dừng khi chi phí < (0: tắt)");
  number("stop_epochs", "Dừng sau số epoch (0: tắt)", { int: true, step: 1 });
  range("steps_per_frame", "Số bước mỗi khung hình", 1, 100, 1, { show: (v) => String(v) });

  function syncVisibility() {
    const opt = model.get("optimizer");
    rowMomentum.style.display = opt === "momentum" ? "" : "none";
    rowB1.style.display = opt === "adam" ? "" : "none";
    rowB2.style.display = opt === "adam" ? "" : "none";
    rowScale.style.display = model.get("init") === "scale" ? "" : "none";
  }

  // ----- vùng vẽ -----
  const net = el("canvas", { class: "pg-network", width: 520, height: 420 });
  const out = el("canvas", { class: "pg-output", width: 280, height: 280 });
  const chart = el("canvas", { class: "pg-chart", width: 280, height: 130 });
  const stats = el("canvas", { class: "pg-stats", width: 280, height: 120 });
  const readout = el("div", { class: "pg-readout" });
  box.appendChild(el("div", { class: "pg-main" }, [
    el("div", { class: "pg-netbox" }, [net]),
    el("div", { class: "pg-side" }, [out, readout, chart, stats]),
  ]));

  // ----- trạng thái (chuỗi ngắn) -----
  const stateInput = el("input", { type: "text", class: "pg-state", spellcheck: "false" });
  const btnLoad = el("button", { class: "pg-load", text: "Nạp" });
  btnLoad.addEventListener("click", () => model.send({ type: "load_state", state: stateInput.value }));
  box.appendChild(el("label", { class: "pg-row pg-wide pg-staterow" }, [
    el("span", { class: "pg-label", text: "Chuỗi trạng thái (sao chép / dán rồi bấm Nạp)" }), stateInput, btnLoad,
  ]));

  let featureImgs = {};

  function computeFeatureImages(n) {
    featureImgs = {};
    for (const f of Object.keys(FEATURE_FN)) {
      const v = new Float32Array(n * n);
      let m = 1e-12;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        const x1 = ((j + 0.5) / n) * 2 * view.radius - view.radius;
        const x2 = view.radius - ((i + 0.5) / n) * 2 * view.radius;
        v[i * n + j] = FEATURE_FN[f](x1, x2);
        m = Math.max(m, Math.abs(v[i * n + j]));
      }
      const u8 = new Uint8Array(n * n);
      for (let k = 0; k < n * n; k++) u8[k] = Math.round((v[k] / m) * 127.5 + 127.5);
      featureImgs[f] = u8;
    }
  }

  // Mọi bản đồ nhiệt của một khung hình (đặc trưng, nơ-ron ẩn, đầu ra) nằm chồng nhau trên một canvas
  // nhỏ (atlas): một putImageData mỗi khung, rồi mỗi ô là một drawImage co giãn từ atlas. Mỗi ô có viền
  // 1 điểm ảnh lặp lại mép, để nội suy khi phóng to không lấy màu của ô bên cạnh.
  const atlas = document.createElement("canvas");
  const actx = atlas.getContext("2d");
  let atlasImg = null;

  function paintAtlas(tiles, n) {
    const s = n + 2;
    if (!atlasImg || atlasImg.width !== s || atlasImg.height !== s * tiles.length) {
      atlas.width = s;
      atlas.height = s * tiles.length;
      atlasImg = actx.createImageData(s, s * tiles.length);
    }
    const d32 = new Uint32Array(atlasImg.data.buffer);
    tiles.forEach((u8, t) => {
      if (!u8) return;
      for (let y = 0; y < s; y++) {
        const sy = Math.min(n - 1, Math.max(0, y - 1)) * n, row = (t * s + y) * s;
        d32[row] = LUT32[u8[sy]];
        for (let x = 1; x <= n; x++) d32[row + x] = LUT32[u8[sy + x - 1]];
        d32[row + s - 1] = LUT32[u8[sy + n - 1]];
      }
    });
    actx.putImageData(atlasImg, 0, 0);
  }

  function drawTile(ctx, t, n, x, y, w, h) {
    ctx.drawImage(atlas, 1, t * (n + 2) + 1, n, n, x, y, w, h);
  }

  const pointsLayer = document.createElement("canvas");
  let pointsReady = false;

  function drawPoints() {
    // các điểm dữ liệu chỉ đổi khi đặt lại: vẽ một lần lên một lớp riêng, mỗi khung chỉ chép lớp đó
    const W = out.width;
    pointsLayer.width = pointsLayer.height = W;
    const ctx = pointsLayer.getContext("2d");
    const s = W / (2 * view.radius);
    const m = view.labels.length;
    for (let i = 0; i < m; i++) {
      const lab = view.labels[i];
      ctx.beginPath();
      ctx.arc((view.points[i] + view.radius) * s, (view.radius - view.points[m + i]) * s, 3, 0, 2 * Math.PI);
      ctx.fillStyle = lab % 2 === 1 ? "#0877bd" : "#f59322";
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = lab >= 2 ? "#000" : "#fff"; // viền đen: tập kiểm tra
      ctx.stroke();
    }
    pointsReady = true;
  }

  function drawOutput(f, outTile) {
    const ctx = out.getContext("2d");
    const W = out.width;
    ctx.imageSmoothingEnabled = true;
    drawTile(ctx, outTile, f.grid, 0, 0, W, W);
    if (!view.points) return;
    if (!pointsReady) drawPoints();
    ctx.drawImage(pointsLayer, 0, 0);
  }

  function drawNetwork(f, maps) {
    const ctx = net.getContext("2d");
    const dims = f.dims;
    const cols = dims.length;
    const node = 34, gap = 10;
    const W = net.width, H = net.height;
    ctx.clearRect(0, 0, W, H);
    ctx.imageSmoothingEnabled = true;
    const colX = (c) => 40 + (c * (W - 120)) / Math.max(cols - 1, 1);
    const nodeY = (c, i) => {
      const n = dims[c];
      const total = n * node + (n - 1) * gap;
      return (H - total) / 2 + i * (node + gap);
    };
    // cạnh: màu theo dấu, độ dày theo độ lớn của trọng số W[l] (lấy thẳng từ vector tham số)
    for (let l = 1; l < cols; l++) {
      const nOut = dims[l], nIn = dims[l - 1], off = maps.weightOffsets[l - 1];
      for (let i = 0; i < nOut; i++) for (let j = 0; j < nIn; j++) {
        let w = f.params[off + i * nIn + j];
        if (!Number.isFinite(w)) w = 0;
        const a = Math.min(1, Math.abs(w) / 2);
        ctx.strokeStyle = w >= 0 ? `rgba(8,119,189,${0.15 + 0.85 * a})` : `rgba(245,147,34,${0.15 + 0.85 * a})`;
        ctx.lineWidth = Math.min(6, 0.5 + Math.abs(w) * 1.5);
        ctx.beginPath();
        ctx.moveTo(colX(l - 1) + node, nodeY(l - 1, j) + node / 2);
        ctx.lineTo(colX(l), nodeY(l, i) + node / 2);
        ctx.stroke();
      }
    }
    // nút: đặc trưng, nơ-ron ẩn (bản đồ nhiệt), đầu ra — các ô của atlas theo thứ tự đó
    ctx.font = "11px sans-serif";
    ctx.fillStyle = "#333";
    let t = 0;
    f.features.forEach((name, i) => {
      drawTile(ctx, t++, f.grid, colX(0), nodeY(0, i), node, node);
      ctx.fillStyle = "#333";
      ctx.textAlign = "right";
      ctx.fillText(FEATURE_LABELS[name] || name, colX(0) - 4, nodeY(0, i) + node / 2 + 4);
    });
    ctx.textAlign = "center";
    for (let l = 1; l < cols - 1; l++) {
      for (let i = 0; i < dims[l]; i++) drawTile(ctx, t++, f.grid, colX(l), nodeY(l, i), node, node);
      ctx.fillStyle = "#333";
      ctx.fillText(`tầng ${l}`, colX(l) + node / 2, 14);
    }
    drawTile(ctx, t, f.grid, colX(cols - 1), nodeY(cols - 1, 0), node, node);
    ctx.fillStyle = "#333";
    ctx.fillText("đầu ra", colX(cols - 1) + node / 2, 14);
    ctx.textAlign = "left";
  }

  function drawChart() {
    const ctx = chart.getContext("2d");
    const W = chart.width, H = chart.height, pad = 22;
    ctx.clearRect(0, 0, W, H);
    const h = view.hist;
    const n = h.step.length;
    let m = 1e-6;
    for (let i = 0; i < n; i++) {
      if (Number.isFinite(h.train[i])) m = Math.max(m, h.train[i]);
      if (Number.isFinite(h.test[i])) m = Math.max(m, h.test[i]);
    }
    ctx.strokeStyle = "#bbb";
    ctx.lineWidth = 1;
    ctx.strokeRect(pad, 4, W - pad - 4, H - pad - 4);
    ctx.fillStyle = "#555";
    ctx.font = "10px sans-serif";
    ctx.fillText(fmt(m, 2), 0, 12);
    ctx.fillText("0", 8, H - pad);
    ctx.fillText("bước", W - 30, H - 6);
    if (n < 2) return;
    const s0 = h.step[0], s1 = Math.max(h.step[n - 1], s0 + 1);
    const line = (arr, color, width) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      for (let i = 0; i < n; i++) {
        const v = Number.isFinite(arr[i]) ? arr[i] : m;
        const x = pad + ((h.step[i] - s0) / (s1 - s0)) * (W - pad - 4);
        const y = 4 + (1 - v / m) * (H - pad - 4);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      }
      ctx.stroke();
    };
    line(h.test, "#999", 1.5);
    line(h.train, "#222", 1.5);
  }

  function drawStats(f) {
    const ctx = stats.getContext("2d");
    const W = stats.width, H = stats.height;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "10px sans-serif";
    const L = f.grad.length;
    const rowH = Math.min(18, (H - 16) / Math.max(L, 1));
    const bar = (v, y, color) => {
      const lg = Math.log10(Math.max(v || 0, 1e-8));
      const frac = Math.max(0, Math.min(1, (lg + 8) / 10)); // thang log: 1e−8 … 1e2
      ctx.fillStyle = color;
      ctx.fillRect(120, y, frac * (W - 124), rowH / 2 - 1);
    };
    ctx.fillStyle = "#333";
    ctx.fillText("RMS kích hoạt (xanh) · RMS dW (cam), thang log", 0, 10);
    for (let l = 0; l < L; l++) {
      const y = 16 + l * rowH;
      const a = l < f.act.length ? f.act[l] : null;
      ctx.fillStyle = "#333";
      const name = l < L - 1 ? `tầng ${l + 1}` : "đầu ra";
      ctx.fillText(`${name}: ${a === null ? "" : fmt(a, 2) + " · "}${fmt(f.grad[l], 2)}`, 0, y + rowH / 2);
      if (a !== null) bar(a, y, "#0877bd");
      bar(f.grad[l], y + rowH / 2, "#f59322");
    }
  }

  // Đo thời gian từng phần của một lần vẽ (ms cộng dồn), cho bench/bench_playground.py.
  view.prof = { maps: 0, heat: 0, output: 0, network: 0, charts: 0, dom: 0 };
  const mapsWork = {};
  let lastCounter = "", lastReadout = "", lastMessage = null, lastStatus = null;

  function setText(node, text, last) {
    if (text !== last) node.textContent = text;
    return text;
  }

  function sendAck() {
    clearTimeout(view.ackTimer);
    view.ackTimer = null;
    const n = view.received - view.acked;
    if (n <= 0) return;
    view.acked = view.received;
    view.ackT = performance.now();
    model.send({ type: "ack", n });
  }

  function draw() {
    const t0 = performance.now();
    view.scheduled = false;
    const f = view.queue.shift();
    if (!f) return;
    view.frame = f;
    if (view.queue.length) {
      view.scheduled = true;
      requestAnimationFrame(draw);
    }
    // báo kernel đã nhận (gộp lại, tối đa năm lần mỗi giây): kernel không dồn khung khi trình duyệt chậm
    if (t0 - view.ackT >= 200) sendAck();
    else if (!view.ackTimer) view.ackTimer = setTimeout(sendAck, 200);
    const prof = view.prof;
    const maps = f.maps ? kernelMaps(f) : netMaps(f, f.params, mapsWork);
    const t1 = performance.now();
    const tiles = f.features.map((name) => featureImgs[name]);
    const g2 = f.grid * f.grid, H = maps.hidden.length / g2;
    for (let k = 0; k < H; k++) tiles.push(maps.hidden.subarray(k * g2, (k + 1) * g2));
    tiles.push(maps.out);
    paintAtlas(tiles, f.grid);
    const t2 = performance.now();
    drawOutput(f, tiles.length - 1);
    const t3 = performance.now();
    if (!model.get("compact")) drawNetwork(f, maps);
    const t4 = performance.now();
    drawStats(f);
    drawChart();
    const t5 = performance.now();
    lastCounter = setText(counter, `Epoch ${f.epoch} · bước ${f.step}`, lastCounter);
    lastReadout = setText(
      readout,
      `Chi phí: huấn luyện ${fmt(f.train_loss)} · kiểm tra ${fmt(f.test_loss)} — ` +
        `độ chính xác: ${fmt(100 * (f.train_acc ?? NaN), 3)}% · ${fmt(100 * (f.test_acc ?? NaN), 3)}% ` +
        `(α = ${fmt(f.lr)})`,
      lastReadout,
    );
    lastMessage = setText(message, f.message || "", lastMessage);
    if (f.status !== lastStatus) {
      message.className = `pg-message pg-status-${f.status === "ok" ? "ok" : "bad"}`;
      lastStatus = f.status;
    }
    view.frames++;
    view.lastStep = f.step;
    view.lastLr = f.lr;
    view.lastMaps = maps;
    if (view.pending && f.rev >= view.pending.rev) {
      view.latencies.push(performance.now() - view.pending.t);
      view.recvLatencies.push(view.pending.recv);
      view.pending = null;
    }
    box.dataset.step = String(f.step);
    box.dataset.frames = String(view.frames);
    const t6 = performance.now();
    prof.maps += t1 - t0;
    prof.heat += t2 - t1;
    prof.output += t3 - t2;
    prof.network += t4 - t3;
    prof.charts += t5 - t4;
    prof.dom += t6 - t5;
    view.drawMs = (view.drawMs || 0) + t6 - t0;
  }

  model.on("msg:custom", (msg, buffers) => {
    if (msg.type === "data") {
      view.points = new Float32Array(buffers[0].buffer.slice(buffers[0].byteOffset, buffers[0].byteOffset + buffers[0].byteLength));
      view.labels = new Uint8Array(buffers[1].buffer.slice(buffers[1].byteOffset, buffers[1].byteOffset + buffers[1].byteLength));
      view.nTrain = msg.n_train;
      view.radius = msg.radius;
      view.hist = { step: [], train: [], test: [] };
      view.lastHistStep = -1;
      featureImgs = {};
      pointsReady = false;
      return;
    }
    if (msg.type !== "frame") return;
    // một bộ đệm duy nhất: mọi tham số của mạng (float64, xem params_vector của Python), rồi có thể
    // thêm bản đồ nhiệt uint8 do kernel tính (đầu ra GRID², rồi từng nơ-ron ẩn)
    const b = buffers[0];
    const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    const f = { ...msg, params: new Float64Array(buf, 0, msg.n_params) };
    if (msg.maps) {
      const g2 = msg.grid * msg.grid, o = 8 * msg.n_params;
      f.out = new Uint8Array(buf, o, g2);
      f.hidden = new Uint8Array(buf, o + g2, buf.byteLength - o - g2);
    }
    if (!featureImgs.x1) computeFeatureImages(f.grid);
    view.received++;
    if (view.pending && f.rev >= view.pending.rev && view.pending.recv === undefined) {
      view.pending.recv = performance.now() - view.pending.t; // khung phản ánh lần đổi đã tới
    }
    if (f.step < view.lastHistStep) view.hist = { step: [], train: [], test: [] };
    const h = view.hist;
    if (f.step !== view.lastHistStep) {
      h.step.push(f.step);
      h.train.push(f.train_loss ?? NaN);
      h.test.push(f.test_loss ?? NaN);
      view.lastHistStep = f.step;
      if (h.step.length > 600) { // giữ tối đa 600 điểm: bỏ một nửa (mỗi điểm thứ hai)
        for (const k of ["step", "train", "test"]) h[k] = h[k].filter((_, i) => i % 2 === 0);
      }
    }
    // Hàng đợi hai khung: khung đến dồn (hai khung trong cùng một nhịp vẽ) được vẽ ở nhịp kế tiếp thay
    // vì bị bỏ; khung cũ hơn nữa thì bỏ (trình duyệt chậm hơn kernel: luôn vẽ khung mới nhất).
    // Khung phản ánh một lần đổi điều khiển thì vẽ ngay ở nhịp kế tiếp (bỏ các khung cũ hơn nó).
    if (view.pending && f.rev >= view.pending.rev) view.queue.length = 0;
    view.queue.push(f);
    if (view.queue.length > 2) view.queue.shift();
    if (!view.scheduled) {
      view.scheduled = true;
      requestAnimationFrame(draw);
    }
  });
  view.acked = 0;
  view.ackT = -1e9;
  // Cho kiểm thử: so bản đồ nhiệt kernel gửi (grid_images của Python) với netMaps tính tại đây từ
  // tham số của cùng khung hình: số giá trị, số giá trị lệch, độ lệch lớn nhất.
  view.compareMaps = () => {
    const f = view.frame;
    if (!f || !f.maps) return null;
    const js = netMaps(f, f.params, {});
    let n = 0, differ = 0, worst = 0;
    for (const [a, b] of [[js.out, f.out], [js.hidden, f.hidden]]) {
      if (a.length !== b.length) return { n: -1, differ: -1, worst: 255 };
      for (let k = 0; k < a.length; k++) {
        const d = Math.abs(a[k] - b[k]);
        n++;
        if (d) differ++;
        worst = Math.max(worst, d);
      }
    }
    return { n, differ, worst };
  };

  function syncAll() {
    for (const s of Object.values(setters)) s();
    syncVisibility();
    const playing = model.get("playing");
    btnPlay.textContent = playing ? "‖ Tạm dừng" : "▶ Chạy";
    btnPlay.classList.toggle("pg-playing", playing);
    box.dataset.playing = playing ? "1" : "0";
    title.textContent = model.get("title") || "";
    title.style.display = model.get("title") ? "" : "none";
    box.classList.toggle("pg-compact", !!model.get("compact"));
    if (document.activeElement !== stateInput) stateInput.value = model.get("state");
    if (model.get("message")) {
      message.textContent = model.get("message");
      message.className = `pg-message pg-status-${model.get("status") === "ok" ? "ok" : "bad"}`;
    }
  }
  model.on("change", syncAll);
  syncAll();

  btnPlay.addEventListener("click", () => {
    const rev = (model.get("rev") || 0) + 1;
    view.pending = { rev, t: performance.now(), name: "playing" };
    model.set("playing", !model.get("playing"));
    model.set("rev", rev);
    model.save_changes();
  });
  btnStep.addEventListener("click", () => model.send({ type: "step", n: 1 }));
  btnReset.addEventListener("click", () => model.send({ type: "reset" }));
  model.send({ type: "hello" });
  return () => { clearTimeout(view.ackTimer); root.__pg = null; };
}

export default { render };
