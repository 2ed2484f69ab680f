// The display's playlist: images and videos admins uploaded (served by the hall server itself),
// shown one after another beside the calls. Videos play muted: the call-outs must be heard.
(() => {
  "use strict";
  let timer = null;
  let current = "";

  function play(box, urls, imageSeconds) {
    const key = JSON.stringify(urls);
    if (key === current) return; // the same playlist keeps playing through a reconnection
    current = key;
    clearTimeout(timer);
    box.replaceChildren();
    box.hidden = urls.length === 0;
    if (!urls.length) return;
    let i = -1;
    const next = () => {
      clearTimeout(timer);
      i = (i + 1) % urls.length;
      const url = urls[i];
      let item;
      if (/\.(mp4|webm)$/i.test(url)) {
        item = document.createElement("video");
        item.muted = true;
        item.autoplay = true;
        item.playsInline = true;
        item.onended = next;
        item.onerror = () => { timer = setTimeout(next, 1000); };
        if (urls.length === 1) { item.loop = true; item.onended = null; }
      } else {
        item = document.createElement("img");
        item.alt = "Pengumuman";
        item.onerror = () => { timer = setTimeout(next, 1000); };
        if (urls.length > 1) timer = setTimeout(next, imageSeconds * 1000);
      }
      item.src = url;
      item.className = "media-item";
      box.replaceChildren(item);
    };
    next();
  }

  window.GiliranMedia = { play };
})();
