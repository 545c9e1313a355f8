// Hình của Demo (nblib.presentation.widgets.FigureView): kernel vẽ hình bằng Agg thành ảnh PNG, trình
// duyệt giữ mọi khung hình đã nhận theo bộ giá trị điều khiển. Đổi thanh trượt về một giá trị đã có
// khung hình (đã xem, hoặc kernel đã tính sẵn lúc rảnh) thì hình và dòng trạng thái đổi ngay trong cùng
// một khung hình của trình duyệt, không chờ kernel. Không tải gì từ mạng.

const MAX_BITMAPS = 48; // ảnh đã giải mã (mỗi ảnh vài MB) giữ sẵn để vẽ tức thì
const MAX_FRAMES = 400; // ảnh PNG (vài chục KB) giữ trong bộ nhớ

// Khoá của một bộ giá trị: số làm tròn 9 chữ số có nghĩa (giá trị của thanh trượt trong trình duyệt và
// giá trị kernel dự đoán cho nấc kế bên có thể lệch nhau ở chữ số cuối của số thực).
export function keyOf(values) {
  return JSON.stringify(
    (values || []).map((v) => (typeof v === "number" && Number.isFinite(v) ? Number(v.toPrecision(9)) : v)),
  );
}

function el(tag, cls) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  return e;
}

export default {
  async render({ model, el: root, host, signal }) {
    root.classList.add("nblib-figure");
    const canvas = el("canvas", "nblib-figure-canvas");
    canvas.width = model.get("width") || 640;
    canvas.height = model.get("height") || 320;
    canvas.setAttribute("role", "img");
    const status = el("div", "nblib-status");
    root.append(canvas, status);
    const ctx = canvas.getContext("2d");

    const frames = new Map(); // khoá → {blob, bitmap, status, origin}
    const bitmaps = []; // thứ tự dùng gần đây của các ảnh đã giải mã
    let wantKey = keyOf(model.get("want"));
    let shownKey = null;
    const stats = { local: 0, kernel: 0, frames: 0 };
    // Cho kiểm thử và bench: trạng thái bộ đệm của hình này.
    root._nblib = { model, frames, stats, keyOf, get shown() { return shownKey; }, get want() { return wantKey; } };

    function touchBitmap(entry) {
      const i = bitmaps.indexOf(entry);
      if (i >= 0) bitmaps.splice(i, 1);
      bitmaps.push(entry);
      while (bitmaps.length > MAX_BITMAPS) {
        const old = bitmaps.shift();
        if (old.bitmap && old.bitmap.close) old.bitmap.close();
        old.bitmap = null;
      }
    }

    function paint(key, entry, local = false) {
      if (canvas.width !== entry.bitmap.width || canvas.height !== entry.bitmap.height) {
        canvas.width = entry.bitmap.width;
        canvas.height = entry.bitmap.height;
      }
      // Hình và dòng trạng thái đổi trong cùng một tác vụ: trình duyệt vẽ cả hai trong một khung hình.
      ctx.drawImage(entry.bitmap, 0, 0);
      status.innerHTML = entry.status;
      shownKey = key;
      root.dataset.origin = entry.origin || "";
      root.dataset.local = local ? "1" : "0"; // hiện từ bộ đệm trình duyệt, không chờ kernel
      touchBitmap(entry);
    }

    function show(key, local = false) {
      const entry = frames.get(key);
      if (!entry) return false;
      if (entry.bitmap) {
        paint(key, entry, local);
      } else if (!entry.decoding) {
        entry.decoding = createImageBitmap(entry.blob).then((bm) => {
          entry.bitmap = bm;
          entry.decoding = null;
          if (wantKey === key) paint(key, entry, local);
        });
      }
      return true;
    }

    async function put(key, bytes, statusHtml, origin) {
      const blob = new Blob([bytes], { type: "image/png" });
      const entry = { blob, bitmap: null, status: statusHtml || "", origin: origin || "" };
      frames.delete(key);
      frames.set(key, entry);
      stats.frames += 1;
      while (frames.size > MAX_FRAMES) frames.delete(frames.keys().next().value);
      // Giải mã ngay (ngoài luồng chính): lúc cần hiện chỉ còn một lệnh drawImage.
      entry.decoding = createImageBitmap(blob).then((bm) => {
        entry.bitmap = bm;
        entry.decoding = null;
        touchBitmap(entry);
        if (key === wantKey && shownKey !== key) paint(key, entry);
      });
      await entry.decoding;
    }

    function wantChanged(key, local) {
      wantKey = key;
      if (shownKey === key) return;
      if (show(key, local) && local) stats.local += 1;
    }

    const onSnapshot = () => {
      const png = model.get("snapshot");
      if (png && png.byteLength) {
        put(keyOf(model.get("snapshot_values")), png, model.get("snapshot_status"), model.get("snapshot_origin"));
      }
    };
    model.on("change:snapshot", onSnapshot);
    // Khi theo dõi được các điều khiển trong trình duyệt, hình luôn ứng với vị trí hiện tại của chúng:
    // khung hình của các giá trị trung gian (nhấn phím mũi tên nhiều lần liền, kernel còn đang tính
    // dở) được giữ trong bộ đệm nhưng không hiện. Không theo dõi được thì theo ``want`` của kernel.
    let tracking = false;
    model.on("change:want", () => {
      stats.kernel += 1;
      if (!tracking) wantChanged(keyOf(model.get("want")), false);
    });
    model.on("msg:custom", (msg, buffers) => {
      if (msg && msg.type === "frame" && buffers && buffers.length) {
        put(keyOf(msg.values), buffers[0], msg.status, msg.origin);
      } else if (msg && msg.type === "forget") {
        frames.clear();
      }
    });

    // Theo dõi trực tiếp các điều khiển trong trình duyệt: khung hình đã có thì hiện ngay, trước khi
    // giá trị mới tới kernel (kernel vẫn nhận giá trị như thường để giữ trạng thái của nó).
    const refs = model.get("controls") || [];
    const attrs = model.get("control_attrs") || [];
    if (host && host.getModel && refs.length === attrs.length) {
      try {
        // ipywidgets gửi tham chiếu dạng "IPY_MODEL_<id>", host của anywidget nhận "anywidget:<id>".
        const ref = (r) => "anywidget:" + String(r).replace(/^IPY_MODEL_/, "");
        const controls = await Promise.all(refs.map((r) => host.getModel(ref(r))));
        const local = () => keyOf(controls.map((c, i) => c.get(attrs[i])));
        controls.forEach((c, i) => c.on(`change:${attrs[i]}`, () => wantChanged(local(), true)));
        tracking = true;
        stats.tracking = true;
        wantKey = local();
      } catch (err) {
        stats.trackError = String(err);
        console.debug("nblib: không theo dõi được điều khiển trong trình duyệt", err);
      }
    }

    onSnapshot();
    // window.nblibNoPrefetch (chỉ bench dùng): kernel không tính sẵn, để đo giá trị tính mới thật sự.
    model.send({ type: "hello", prefetch: !globalThis.nblibNoPrefetch });
    if (signal) {
      signal.addEventListener("abort", () => {
        for (const e of frames.values()) if (e.bitmap && e.bitmap.close) e.bitmap.close();
        frames.clear();
      });
    }
  },
};
